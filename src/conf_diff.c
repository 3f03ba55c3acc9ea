/* SPDX-License-Identifier: ISC */
/* What a reload changes: the directive lines of two configs compared. */
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "mem.h"

/* Length of the key two lines must share to pair as one altered line: the
 * directive, and with by_arg its first argument too. */
static size_t conf_key_len(const char *text, int by_arg)
{
    size_t n = strcspn(text, " ");
    if (by_arg && text[n] == ' ')
        n += 1 + strcspn(text + n + 1, " ");
    return n;
}

static int conf_same_key(const char *a, const char *b, int by_arg)
{
    size_t n = conf_key_len(a, by_arg);
    return n == conf_key_len(b, by_arg) && strncmp(a, b, n) == 0;
}

/* The only unmatched line of lines[] with text's key, or -1 if none or
 * more than one. */
static int conf_sole(const struct conf *c, const unsigned char *used, const char *text, int by_arg)
{
    int found = -1;
    for (unsigned i = 0; i < c->n_lines; i++) {
        if (used[i] || !conf_same_key(c->lines[i].text, text, by_arg))
            continue;
        if (found >= 0)
            return -1;
        found = (int)i;
    }
    return found;
}

/* pair[j]: the old line new line j continues (-1: added); the same lines
 * in both, then the sole line of the same key and argument, then of the
 * same directive. */
static void conf_pair(const struct conf *o, const struct conf *n, int *pair, unsigned char *oused,
                      unsigned char *nused)
{
    for (unsigned j = 0; j < n->n_lines; j++) {
        pair[j] = -1;
        for (unsigned i = 0; i < o->n_lines && pair[j] < 0; i++)
            if (!oused[i] && strcmp(o->lines[i].text, n->lines[j].text) == 0) {
                pair[j] = (int)i;
                oused[i] = nused[j] = 1;
            }
    }
    for (int by_arg = 1; by_arg >= 0; by_arg--) {
        for (unsigned j = 0; j < n->n_lines; j++) {
            if (nused[j])
                continue;
            int i = conf_sole(o, oused, n->lines[j].text, by_arg);
            if (i >= 0 && conf_sole(n, nused, o->lines[i].text, by_arg) == (int)j) {
                pair[j] = i;
                oused[i] = nused[j] = 1;
            }
        }
    }
}

unsigned conf_diff(const struct conf *old, const struct conf *new, conf_diff_fn fn, void *arg)
{
    int *pair = mem_calloc(new->n_lines + 1, sizeof(*pair));
    unsigned char *oused = mem_calloc(old->n_lines + 1, 1),
                  *nused = mem_calloc(new->n_lines + 1, 1);
    unsigned changes = 0;

    conf_pair(old, new, pair, oused, nused);
    for (unsigned j = 0; j < new->n_lines; j++) {
        const struct conf_line *was = pair[j] >= 0 ? &old->lines[pair[j]] : NULL;
        if (!was) {
            fn(arg, CONF_ADDED, NULL, &new->lines[j]);
            changes++;
        } else if (strcmp(was->text, new->lines[j].text) != 0) {
            fn(arg, CONF_ALTERED, was, &new->lines[j]);
            changes++;
        }
    }
    for (unsigned i = 0; i < old->n_lines; i++)
        if (!oused[i]) {
            fn(arg, CONF_REMOVED, &old->lines[i], NULL);
            changes++;
        }
    free(pair);
    free(oused);
    free(nused);
    return changes;
}
