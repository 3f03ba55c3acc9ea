/* SPDX-License-Identifier: ISC */
#include "acl.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

struct acl_rule {
    struct netsubnet net;
    int allow;
};

/* One list per family, kept sorted by prefix length, longest first, so the
 * first rule that matches is the most specific one and acl_check can stop
 * there. A linear scan is enough for the tens of rules real configs carry;
 * a trie would only pay off with thousands. */
struct acl_list {
    struct acl_rule *rules;
    unsigned n, cap;
};

struct acl {
    struct acl_list v4, v6;
};

struct acl *acl_create(void)
{
    return mem_zalloc(sizeof(struct acl));
}

void acl_destroy(struct acl *acl)
{
    if (!acl)
        return;
    free(acl->v4.rules);
    free(acl->v6.rules);
    free(acl);
}

static void acl_insert(struct acl_list *l, const struct netsubnet *net, int allow)
{
    unsigned pos = 0;

    /* Same subnet again: the later rule replaces the earlier in place, so the
     * count reflects distinct subnets and the order stays sorted. */
    for (unsigned i = 0; i < l->n; i++) {
        const struct acl_rule *r = &l->rules[i];
        if (r->net.prefix == net->prefix && addr_equal(&r->net.addr, &net->addr)) {
            l->rules[i].allow = allow ? 1 : 0;
            return;
        }
        if (r->net.prefix >= net->prefix)
            pos = i + 1;
    }
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 8;
        l->rules = mem_realloc(l->rules, l->cap, sizeof(*l->rules));
    }
    memmove(&l->rules[pos + 1], &l->rules[pos], (l->n - pos) * sizeof(*l->rules));
    l->rules[pos].net = *net;
    l->rules[pos].allow = allow ? 1 : 0;
    l->n++;
}

int acl_add(struct acl *acl, const char *spec, int allow)
{
    struct netsubnet net;

    if (strcmp(spec, "all") == 0) {
        memset(&net, 0, sizeof(net));
        net.addr.family = AF_INET;
        acl_insert(&acl->v4, &net, allow);
        net.addr.family = AF_INET6;
        acl_insert(&acl->v6, &net, allow);
        return 0;
    }
    if (addr_parse_subnet(spec, &net) < 0)
        return -1;
    acl_insert(net.addr.family == AF_INET ? &acl->v4 : &acl->v6, &net, allow);
    return 0;
}

int acl_check(const struct acl *acl, const struct netaddr *addr)
{
    const struct acl_list *l;

    if (addr->family == AF_INET)
        l = &acl->v4;
    else if (addr->family == AF_INET6)
        l = &acl->v6;
    else
        return 0;
    for (unsigned i = 0; i < l->n; i++)
        if (addr_in_subnet(addr, &l->rules[i].net))
            return l->rules[i].allow;
    return 0;
}

unsigned acl_count(const struct acl *acl)
{
    return acl->v4.n + acl->v6.n;
}
