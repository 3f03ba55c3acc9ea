/* SPDX-License-Identifier: ISC */
/* ntp_wire: a datagram through ntp_wire_parse and the extension-field
 * iterator. Asserts that an accepted packet's layout tiles the buffer
 * exactly (header, fields, MAC), that iteration yields exactly n_ext fields
 * inside that range, that re-encoding the header and re-appending the fields
 * reproduces the input byte for byte, that a rejected packet leaves the
 * output zeroed, and that the iterator stays inside any in-bounds range a
 * corrupted info names. */
#include "fuzz.h"

#include "ntp_wire.h"

static void check_layout(const uint8_t *buf, size_t len, const struct ntp_packet_info *info)
{
    FUZZ_CHECK(len >= NTP_HEADER_LEN);
    FUZZ_CHECK(info->ext_off == NTP_HEADER_LEN);
    FUZZ_CHECK(info->ext_len <= len - NTP_HEADER_LEN);
    FUZZ_CHECK(info->hdr.version == 4 || info->n_ext == 0);
    FUZZ_CHECK(info->n_ext == 0 || info->ext_len >= (size_t)info->n_ext * NTP_EXT_MIN_LEN);
    FUZZ_CHECK(info->hdr.leap <= 3 && info->hdr.version <= 7 && info->hdr.mode <= 7);
    size_t end = info->ext_off + info->ext_len;
    if (info->mac_len == 0) {
        FUZZ_CHECK(info->mac_off == 0);
        FUZZ_CHECK(end == len);
        return;
    }
    FUZZ_CHECK(info->mac_off == end);
    FUZZ_CHECK(info->mac_off + info->mac_len == len);
    FUZZ_CHECK(info->mac_len >= NTP_MAC_MIN_LEN &&
               info->mac_len <= (info->hdr.version < 4 ? NTP_MAC_MAX_LEN : NTP_MAC_MAX_LEN_V4));
    FUZZ_CHECK(info->mac_len % 4 == 0);
    const uint8_t *k = buf + info->mac_off;
    FUZZ_CHECK(info->key_id ==
               ((uint32_t)k[0] << 24 | (uint32_t)k[1] << 16 | (uint32_t)k[2] << 8 | k[3]));
}

/* Walk the fields, rebuilding the packet from its parts as we go. */
static void check_fields(const uint8_t *buf, size_t len, const struct ntp_packet_info *info)
{
    uint8_t *re = malloc(len);
    size_t off = info->ext_off, reoff = NTP_HEADER_LEN;
    unsigned n = 0;
    struct ntp_ext ext;
    int r;

    FUZZ_CHECK(re != NULL);
    FUZZ_CHECK(ntp_wire_encode_header(&info->hdr, re, len) == NTP_HEADER_LEN);
    FUZZ_CHECK(memcmp(re, buf, NTP_HEADER_LEN) == 0);
    while ((r = ntp_wire_ext_next(buf, info, &off, &ext)) == 1) {
        FUZZ_CHECK(++n <= info->n_ext);
        FUZZ_CHECK(ext.length >= NTP_EXT_MIN_LEN && ext.length % 4 == 0);
        FUZZ_CHECK(ext.value_len + 4 == ext.length);
        FUZZ_CHECK(ext.value >= buf + info->ext_off + 4);
        FUZZ_CHECK(ext.value + ext.value_len <= buf + info->ext_off + info->ext_len);
        FUZZ_CHECK(ntp_wire_ext_append(re, len, &reoff, ext.type, ext.value, ext.value_len) == 0);
    }
    FUZZ_CHECK(r == 0);
    FUZZ_CHECK(n == info->n_ext);
    FUZZ_CHECK(off == info->ext_off + info->ext_len && reoff == off);
    if (info->mac_len)
        memcpy(re + reoff, buf + info->mac_off, info->mac_len);
    FUZZ_CHECK(memcmp(re, buf, len) == 0);
    free(re);
}

/* A corrupted info whose range still lies inside the buffer: the iterator
 * may refuse it but must not read outside it. */
static void check_corrupt_info(const uint8_t *buf, size_t len)
{
    struct ntp_packet_info info = {0};
    struct ntp_ext ext;
    size_t off;
    int r = 1;

    if (len < 4)
        return;
    info.ext_off = (size_t)(buf[len - 2] * 7u) % (len + 1);
    info.ext_len = (size_t)(buf[len - 1] * 13u) % (len - info.ext_off + 1);
    off = info.ext_off;
    for (size_t i = 0; i <= len / NTP_EXT_MIN_LEN + 1 && r == 1; i++) {
        r = ntp_wire_ext_next(buf, &info, &off, &ext);
        if (r == 1) {
            FUZZ_CHECK(ext.value >= buf + info.ext_off);
            FUZZ_CHECK(ext.value + ext.value_len <= buf + info.ext_off + info.ext_len);
        }
    }
    FUZZ_CHECK(r != 1); /* each field is >= 16 bytes: the loop above ends it */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct ntp_packet_info zero;
    struct ntp_packet_info info;

    if (size > (size_t)NTP_MAX_PACKET * 2)
        return 0;
    if (ntp_wire_parse(data, size, &info) < 0) {
        /* It memsets its output: every byte is 0, padding included.
         * NOLINTNEXTLINE(bugprone-suspicious-memory-comparison) */
        FUZZ_CHECK(memcmp(&info, &zero, sizeof(info)) == 0);
    } else {
        check_layout(data, size, &info);
        check_fields(data, size, &info);
    }
    check_corrupt_info(data, size);
    return 0;
}
