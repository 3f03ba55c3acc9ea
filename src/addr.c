/* SPDX-License-Identifier: ISC */
#include "addr.h"

#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t v4mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

int addr_from_sockaddr(const struct sockaddr *sa, struct netaddr *out, uint16_t *port)
{
    memset(out, 0, sizeof(*out));
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
        out->family = AF_INET;
        memcpy(out->bytes, &sin->sin_addr, 4);
        if (port)
            *port = ntohs(sin->sin_port);
        return 0;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
        const uint8_t *b = sin6->sin6_addr.s6_addr;
        if (memcmp(b, v4mapped_prefix, 12) == 0) {
            out->family = AF_INET;
            memcpy(out->bytes, b + 12, 4);
        } else {
            out->family = AF_INET6;
            memcpy(out->bytes, b, 16);
        }
        if (port)
            *port = ntohs(sin6->sin6_port);
        return 0;
    }
    return -1;
}

socklen_t addr_to_sockaddr(const struct netaddr *addr, uint16_t port,
                           struct sockaddr_storage *out)
{
    memset(out, 0, sizeof(*out));
    if (addr->family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)out;
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        memcpy(&sin->sin_addr, addr->bytes, 4);
        return sizeof(*sin);
    }
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)out;
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    memcpy(&sin6->sin6_addr, addr->bytes, 16);
    return sizeof(*sin6);
}

int addr_parse(const char *s, struct netaddr *out)
{
    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, s, out->bytes) == 1) {
        out->family = AF_INET;
        return 0;
    }
    if (inet_pton(AF_INET6, s, out->bytes) == 1) {
        out->family = AF_INET6;
        if (memcmp(out->bytes, v4mapped_prefix, 12) == 0) {
            memmove(out->bytes, out->bytes + 12, 4);
            memset(out->bytes + 4, 0, 12);
            out->family = AF_INET;
        }
        return 0;
    }
    return -1;
}

size_t addr_len(const struct netaddr *addr)
{
    return addr->family == AF_INET ? 4 : 16;
}

static void addr_mask(struct netaddr *a, unsigned prefix)
{
    size_t n = addr_len(a);
    for (size_t i = 0; i < n; i++) {
        unsigned bits = prefix > i * 8 ? prefix - i * 8 : 0;
        if (bits < 8)
            a->bytes[i] &= (uint8_t)(0xff00u >> bits);
    }
}

int addr_parse_subnet(const char *s, struct netsubnet *out)
{
    char buf[ADDR_STRLEN];
    const char *slash = strchr(s, '/');
    size_t alen = slash ? (size_t)(slash - s) : strlen(s);
    long prefix;

    if (alen == 0 || alen >= sizeof(buf))
        return -1;
    memcpy(buf, s, alen);
    buf[alen] = '\0';
    if (addr_parse(buf, &out->addr) < 0)
        return -1;
    /* The prefix of an IPv4-mapped subnet is written against the IPv6 form,
     * so its range is that of IPv6 even though the address is now IPv4. */
    int mapped = out->addr.family == AF_INET && strchr(buf, ':') != NULL;
    unsigned max = out->addr.family == AF_INET && !mapped ? 32 : 128;
    if (!slash) {
        out->prefix = out->addr.family == AF_INET ? 32 : 128;
        return 0;
    }
    char *end;
    if (slash[1] < '0' || slash[1] > '9')
        return -1;
    prefix = strtol(slash + 1, &end, 10);
    if (*end != '\0' || prefix < 0 || prefix > (long)max)
        return -1;
    /* An IPv4-mapped subnet written in IPv6 form keeps its meaning as IPv4;
     * a shorter prefix would also cover non-mapped IPv6 space. */
    if (mapped) {
        if (prefix < 96)
            return -1;
        prefix -= 96;
    }
    out->prefix = (uint8_t)prefix;
    addr_mask(&out->addr, out->prefix);
    return 0;
}

int addr_in_subnet(const struct netaddr *addr, const struct netsubnet *subnet)
{
    if (addr->family != subnet->addr.family)
        return 0;
    /* Clamp so a bad prefix in a hand-built subnet cannot read past bytes[]. */
    unsigned prefix = subnet->prefix;
    if (prefix > 8 * addr_len(addr))
        prefix = (unsigned)(8 * addr_len(addr));
    unsigned full = prefix / 8, rest = prefix % 8;
    if (memcmp(addr->bytes, subnet->addr.bytes, full) != 0)
        return 0;
    if (rest == 0)
        return 1;
    uint8_t mask = (uint8_t)(0xff00u >> rest);
    return ((addr->bytes[full] ^ subnet->addr.bytes[full]) & mask) == 0;
}

int addr_is_loopback(const struct netaddr *addr)
{
    static const uint8_t v6lo[16] = {[15] = 1};

    if (addr->family == AF_INET)
        return addr->bytes[0] == 127;
    return addr->family == AF_INET6 && memcmp(addr->bytes, v6lo, 16) == 0;
}

int addr_equal(const struct netaddr *a, const struct netaddr *b)
{
    return a->family == b->family && memcmp(a->bytes, b->bytes, addr_len(a)) == 0;
}

const char *addr_format(const struct netaddr *addr, char *buf, size_t size)
{
    if (!inet_ntop(addr->family, addr->bytes, buf, (socklen_t)size))
        snprintf(buf, size, "?");
    return buf;
}

uint32_t addr_refid(const struct netaddr *a)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    const uint8_t *b = a->bytes;

    if (a->family == AF_INET6 && EVP_Digest(a->bytes, 16, md, &mdlen, EVP_md5(), NULL) == 1 &&
        mdlen >= 4)
        b = md;
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}
