/* SPDX-License-Identifier: ISC */
#include "firewall.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "mem.h"

/* One ACL rule of one family, as acl.c would hold it. */
struct fw_rule {
    struct netsubnet net;
    int allow;
    unsigned line;
};

struct fw_family {
    int af;
    const char *name;    /* "IPv4" */
    const char *kw;      /* nft payload keyword: "ip" */
    const char *nfproto; /* nft meta nfproto value: "ipv4" */
    const char *tag;     /* log prefix suffix: "v4" */
    struct fw_rule *rules;
    unsigned n, allows;
    unsigned bound;     /* bindaddresses of this family */
    int bound_wildcard; /* one of them is the wildcard address */
};

/* The subnet of an ACL spec in family af: 0, or -1 for another family. */
static int fw_spec_subnet(const char *spec, int af, struct netsubnet *net)
{
    if (strcmp(spec, "all") == 0) {
        memset(net, 0, sizeof(*net));
        net->addr.family = (uint8_t)af;
        return 0;
    }
    if (addr_parse_subnet(spec, net) < 0 || net->addr.family != af)
        return -1;
    return 0;
}

/* Rules of one family, the same subnet merged (the later rule wins), most
 * specific first: the order in which acl_check finds the deciding rule. */
static void fw_collect(const struct conf *conf, struct fw_family *f)
{
    f->rules = mem_calloc(conf->n_acl ? conf->n_acl : 1, sizeof(*f->rules));
    for (unsigned i = 0; i < conf->n_acl; i++) {
        struct fw_rule r = {.allow = conf->acl[i].allow, .line = conf->acl[i].line};
        unsigned k = 0;
        if (fw_spec_subnet(conf->acl[i].spec, f->af, &r.net) < 0)
            continue;
        while (k < f->n && !(f->rules[k].net.prefix == r.net.prefix &&
                             addr_equal(&f->rules[k].net.addr, &r.net.addr)))
            k++;
        f->rules[k] = r;
        f->n += k == f->n;
    }
    for (unsigned i = 1; i < f->n; i++) {
        struct fw_rule r = f->rules[i];
        unsigned k = i;
        while (k > 0 && (f->rules[k - 1].net.prefix < r.net.prefix ||
                         (f->rules[k - 1].net.prefix == r.net.prefix && f->rules[k - 1].line > r.line))) {
            f->rules[k] = f->rules[k - 1];
            k--;
        }
        f->rules[k] = r;
    }
    for (unsigned i = 0; i < f->n; i++)
        f->allows += f->rules[i].allow;
    for (unsigned i = 0; i < conf->n_bindaddrs; i++) {
        struct netaddr a;
        static const uint8_t zero[16];
        if (addr_parse(conf->bindaddrs[i].addr, &a) < 0 || a.family != f->af)
            continue;
        f->bound++;
        f->bound_wildcard |= memcmp(a.bytes, zero, addr_len(&a)) == 0;
    }
}

/* Why family f is closed, or NULL if clients of it may be served. */
static const char *fw_closed_reason(const struct conf *conf, const struct fw_family *f)
{
    if (conf->n_bindaddrs > 0 && f->bound == 0)
        return "tempusd listens on no address of this family (bindaddress)";
    if (f->allows == 0)
        return "no allow rule covers this family, tempusd refuses all its clients";
    return NULL;
}

static void fw_subnet(struct ctl_buf *out, const struct netsubnet *net)
{
    char buf[ADDR_STRLEN];
    addr_format(&net->addr, buf, sizeof(buf));
    if (net->prefix == 8 * addr_len(&net->addr))
        ctl_buf_printf(out, "%s", buf);
    else
        ctl_buf_printf(out, "%s/%u", buf, net->prefix);
}

/* The bound addresses of family f as "daddr != { ... }" (only when the
 * daemon is bound to specific addresses of it). */
static void fw_bound(const struct conf *conf, const struct fw_family *f, struct ctl_buf *out)
{
    const char *sep = "";
    if (f->bound == 0 || f->bound_wildcard)
        return;
    ctl_buf_printf(out, "\t\t%s daddr != { ", f->kw);
    for (unsigned i = 0; i < conf->n_bindaddrs; i++) {
        struct netaddr a;
        char buf[ADDR_STRLEN];
        if (addr_parse(conf->bindaddrs[i].addr, &a) < 0 || a.family != f->af)
            continue;
        ctl_buf_printf(out, "%s%s", sep, addr_format(&a, buf, sizeof(buf)));
        sep = ", ";
    }
    ctl_buf_printf(out, " } jump ntp_refuse\n");
}

/* The client rules of family f in the order acl_check decides. */
static void fw_family_rules(const struct conf *conf, const struct fw_family *f, struct ctl_buf *out)
{
    const char *why = fw_closed_reason(conf, f);

    if (why) {
        ctl_buf_printf(out, "\t\t# %s: closed: %s\n", f->name, why);
        return;
    }
    ctl_buf_printf(out, "\t\t# %s: the most specific rule wins, as in tempusd\n", f->name);
    fw_bound(conf, f, out);
    for (unsigned i = 0; i < f->n; i++) {
        const struct fw_rule *r = &f->rules[i];
        ctl_buf_printf(out, "\t\t");
        if (r->net.prefix == 0) {
            ctl_buf_printf(out, "meta nfproto %s", f->nfproto);
        } else {
            ctl_buf_printf(out, "%s saddr ", f->kw);
            fw_subnet(out, &r->net);
        }
        ctl_buf_printf(out, " %s comment \"%s line %u\"\n", r->allow ? "accept" : "jump ntp_refuse",
                       r->allow ? "allow" : "deny", r->line);
    }
}

/* An interface name nft can take inside double quotes. */
static int fw_name_ok(const char *s)
{
    for (; *s; s++)
        if (*s <= ' ' || *s > '~' || *s == '"' || *s == '\\')
            return 0;
    return 1;
}

static void fw_server_chain(const struct conf *conf, struct fw_family fam[2], struct ctl_buf *out)
{
    ctl_buf_printf(out, "\tchain ntp_server {\n");
    if (conf->binddevice[0] && fw_name_ok(conf->binddevice)) {
        ctl_buf_printf(out, "\t\tiifname != \"%s\" jump ntp_refuse comment \"binddevice line %u\"\n",
                       conf->binddevice, conf->binddevice_line);
    } else if (conf->binddevice[0]) {
        ctl_buf_printf(out, "\t\t# binddevice (line %u) is no name nft can match: closed\n",
                       conf->binddevice_line);
        ctl_buf_printf(out, "\t\tjump ntp_refuse\n\t}\n");
        return;
    }
    for (int i = 0; i < 2; i++)
        fw_family_rules(conf, &fam[i], out);
    ctl_buf_printf(out, "\t\tjump ntp_refuse\n\t}\n");
}

static void fw_refuse_chain(struct fw_family fam[2], struct ctl_buf *out)
{
    ctl_buf_printf(out, "\tchain ntp_refuse {\n");
    for (int i = 0; i < 2; i++)
        ctl_buf_printf(out,
                       "\t\tmeta nfproto %s limit rate %d/second burst %d packets "
                       "log prefix \"" FIREWALL_LOG_REFUSED "%s: \" level info\n",
                       fam[i].nfproto, FIREWALL_LOG_RATE, 2 * FIREWALL_LOG_RATE, fam[i].tag);
    ctl_buf_printf(out, "\t\tcounter drop\n\t}\n");
}

/* The numeric upstreams of family f as "saddr { ... } ... accept"; the
 * number of upstreams that are names (or pools). */
static unsigned fw_upstream_addrs(const struct conf *conf, const struct fw_family *f,
                                  struct ctl_buf *out)
{
    const char *sep = "";
    unsigned names = 0;

    for (unsigned i = 0; i < conf->n_servers; i++) {
        struct netaddr a;
        char buf[ADDR_STRLEN];
        if (conf->servers[i].pool || addr_parse(conf->servers[i].host, &a) < 0) {
            names++;
            continue;
        }
        if (a.family != f->af)
            continue;
        if (!*sep)
            ctl_buf_printf(out, "\t\t%s saddr { ", f->kw);
        ctl_buf_printf(out, "%s%s", sep, addr_format(&a, buf, sizeof(buf)));
        sep = ", ";
    }
    if (*sep)
        ctl_buf_printf(out, " } ct state established accept\n");
    return names;
}

static void fw_upstream_chain(const struct conf *conf, struct fw_family fam[2], struct ctl_buf *out)
{
    ctl_buf_printf(out, "\tchain ntp_upstream {\n"
                        "\t\t# replies to tempusd's own requests (connection tracking)\n");
    unsigned names = fw_upstream_addrs(conf, &fam[0], out);
    fw_upstream_addrs(conf, &fam[1], out);
    if (names) {
        ctl_buf_printf(out, "\t\t# %u upstream%s named, resolved at run time: a reply from any "
                            "address\n",
                       names, names == 1 ? " is" : "s are");
        ctl_buf_printf(out, "\t\tct state established accept\n");
    }
    ctl_buf_printf(out,
                   "\t\tlimit rate %d/second burst %d packets log prefix \"" FIREWALL_LOG_UNSOLICITED
                   "\" level info\n\t\tcounter drop\n\t}\n",
                   FIREWALL_LOG_RATE, 2 * FIREWALL_LOG_RATE);
}

/* The distinct ports of the upstreams, ascending, into ports (n_servers). */
static unsigned fw_upstream_ports(const struct conf *conf, uint16_t *ports)
{
    unsigned n = 0;
    for (unsigned i = 0; i < conf->n_servers; i++) {
        uint16_t p = conf->servers[i].port;
        unsigned k = 0;
        while (k < n && ports[k] < p)
            k++;
        if (k < n && ports[k] == p)
            continue;
        memmove(&ports[k + 1], &ports[k], (n - k) * sizeof(*ports));
        ports[k] = p;
        n++;
    }
    return n;
}

static void fw_input_chain(const struct conf *conf, const uint16_t *ports, unsigned nports,
                           struct ctl_buf *out)
{
    ctl_buf_printf(out, "\tchain input {\n"
                        "\t\ttype filter hook input priority filter; policy accept;\n");
    if (conf->port)
        ctl_buf_printf(out, "\t\tudp dport %u jump ntp_server\n", conf->port);
    else
        ctl_buf_printf(out, "\t\t# port 0: tempusd serves no one\n"
                            "\t\tudp dport 123 jump ntp_refuse\n");
    if (nports == 0) {
        ctl_buf_printf(out, "\t\t# no upstream is configured\n\t}\n");
        return;
    }
    ctl_buf_printf(out, "\t\tudp sport %s", nports > 1 ? "{ " : "");
    for (unsigned i = 0; i < nports; i++)
        ctl_buf_printf(out, "%s%u", i ? ", " : "", ports[i]);
    ctl_buf_printf(out, "%s jump ntp_upstream\n\t}\n", nports > 1 ? " }" : "");
}

/* The header comment: source with anything but printable ASCII made '?',
 * so no name can end the comment line. */
static void fw_header(const char *source, struct ctl_buf *out)
{
    ctl_buf_printf(out, "#!/usr/sbin/nft -f\n# tempus firewall for ");
    for (const char *p = source; *p; p++)
        ctl_buf_printf(out, "%c", *p >= ' ' && *p <= '~' ? *p : '?');
    ctl_buf_printf(out, ", made by `tempusctl firewall`.\n"
                        "# Regenerate it when the config changes; `tempusctl firewall --check`\n"
                        "# reports drift. Loading replaces table inet " FIREWALL_TABLE
                        " and nothing else;\n"
                        "# it judges NTP only and leaves other traffic to the host's rules.\n"
                        "table inet " FIREWALL_TABLE "\n"
                        "delete table inet " FIREWALL_TABLE "\n"
                        "table inet " FIREWALL_TABLE " {\n");
}

void firewall_render(const struct conf *conf, const char *source, struct ctl_buf *out)
{
    struct fw_family fam[2] = {
        {.af = AF_INET, .name = "IPv4", .kw = "ip", .nfproto = "ipv4", .tag = "v4"},
        {.af = AF_INET6, .name = "IPv6", .kw = "ip6", .nfproto = "ipv6", .tag = "v6"},
    };
    uint16_t *ports = mem_calloc(conf->n_servers ? conf->n_servers : 1, sizeof(*ports));
    unsigned nports = fw_upstream_ports(conf, ports);

    for (int i = 0; i < 2; i++)
        fw_collect(conf, &fam[i]);
    fw_header(source, out);
    fw_input_chain(conf, ports, nports, out);
    if (conf->port)
        fw_server_chain(conf, fam, out);
    fw_refuse_chain(fam, out);
    if (nports)
        fw_upstream_chain(conf, fam, out);
    ctl_buf_printf(out, "}\n");
    for (int i = 0; i < 2; i++)
        free(fam[i].rules);
    free(ports);
}
