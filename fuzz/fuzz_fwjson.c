/* SPDX-License-Identifier: ISC */
/* firewall_json: an `nft -j list` document, as `tempusctl firewall --check`
 * reads it from nft. Asserts that
 *   - an accepted document gives at most FWJSON_MAX_OBJECTS objects, each
 *     a NUL-terminated canonical object without whitespace outside strings,
 *     handles or metainfo;
 *   - the canonical form is a fixed point: the objects wrapped again as
 *     {"nftables":[...]} parse to the same objects;
 *   - a listing differs from itself in nothing, and from the empty listing
 *     in exactly its objects, all missing. */
#include "fuzz.h"

#include "ctl_proto.h"
#include "firewall_json.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    log_init("fuzz", LOG_TO_STDERR, LOG_LVL_ERR);
    return 0;
}

static void check_objects(const struct fwjson_list *l)
{
    FUZZ_CHECK(l->n <= FWJSON_MAX_OBJECTS);
    for (size_t i = 0; i < l->n; i++) {
        const char *o = l->obj[i];
        FUZZ_CHECK(strncmp(o, "{\"metainfo\":", 12) != 0);
        FUZZ_CHECK(strlen(o) < FWJSON_MAX_OBJECT);
        int in_string = 0;
        for (const char *p = o; *p; p++) {
            if (in_string && *p == '\\' && p[1]) {
                p++;
                continue;
            }
            /* a string that opens as "handle": is a key: none may stay */
            if (*p == '"' && !in_string)
                FUZZ_CHECK(strncmp(p, "\"handle\":", 9) != 0);
            if (*p == '"')
                in_string = !in_string;
            FUZZ_CHECK(in_string || (*p != ' ' && *p != '\n' && *p != '\t' && *p != '\r'));
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fwjson_list l, again, empty = {.obj = NULL, .n = 0};
    struct ctl_buf b;
    size_t miss = 0, extra = 0;

    if (fwjson_parse((const char *)data, size, &l) < 0) {
        FUZZ_CHECK(l.n == 0 && l.obj == NULL);
        return 0;
    }
    check_objects(&l);
    ctl_buf_init(&b, (size_t)FWJSON_MAX_OBJECTS * FWJSON_MAX_OBJECT + 64);
    ctl_buf_printf(&b, "{\"nftables\":[");
    for (size_t i = 0; i < l.n; i++)
        ctl_buf_printf(&b, "%s%s", i ? "," : "", l.obj[i]);
    ctl_buf_printf(&b, "]}");
    FUZZ_CHECK(!b.overflow);
    FUZZ_CHECK(fwjson_parse(b.data, b.len, &again) == 0);
    FUZZ_CHECK(again.n == l.n);
    for (size_t i = 0; i < l.n; i++)
        FUZZ_CHECK(strcmp(again.obj[i], l.obj[i]) == 0);
    FUZZ_CHECK(fwjson_diff(&l, &again, NULL, &miss, &extra) == 0 && miss == 0 && extra == 0);
    FUZZ_CHECK(fwjson_diff(&l, &empty, NULL, &miss, &extra) == l.n && miss == l.n && extra == 0);
    ctl_buf_free(&b);
    fwjson_free(&again);
    fwjson_free(&l);
    return 0;
}
