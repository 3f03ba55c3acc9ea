/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_ADDR_H
#define TEMPUS_ADDR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* An IP address without port. IPv4-mapped IPv6 addresses are always stored
 * as plain IPv4 (family AF_INET), so every module sees one form. */
struct netaddr {
    uint8_t family; /* AF_INET or AF_INET6 */
    uint8_t bytes[16];  /* network order; IPv4 uses the first 4 */
};

/* A subnet: address plus prefix length (0..32 or 0..128). */
struct netsubnet {
    struct netaddr addr; /* host bits are cleared */
    uint8_t prefix;
};

#define ADDR_STRLEN 64

/* Convert a socket address to a netaddr (mapped v4 -> v4); port to *port if
 * port is not NULL. Returns 0, or -1 for a family other than INET/INET6. */
int addr_from_sockaddr(const struct sockaddr *sa, struct netaddr *out, uint16_t *port);
/* Build a socket address for addr:port; returns its length. */
socklen_t addr_to_sockaddr(const struct netaddr *addr, uint16_t port,
                           struct sockaddr_storage *out);
/* Parse a numeric IPv4/IPv6 address (no names). Returns 0 or -1. */
int addr_parse(const char *s, struct netaddr *out);
/* Parse "ADDR" or "ADDR/PREFIX"; a bare address is a host subnet. Host bits
 * beyond the prefix are cleared. Returns 0 or -1. */
int addr_parse_subnet(const char *s, struct netsubnet *out);
/* Whether addr lies inside subnet (families must be equal). */
int addr_in_subnet(const struct netaddr *addr, const struct netsubnet *subnet);
/* Whether addr is a loopback address (127.0.0.0/8 or ::1), which every
 * process on the host shares. */
int addr_is_loopback(const struct netaddr *addr);
/* The reference id that names addr as an upstream (RFC 5905): the IPv4
 * address, or the first four bytes of the MD5 of the IPv6 address (for
 * loop detection and audits only, not for security). */
uint32_t addr_refid(const struct netaddr *addr);
/* Whether two addresses are equal. */
int addr_equal(const struct netaddr *a, const struct netaddr *b);
/* Format addr into buf (size >= ADDR_STRLEN); returns buf. */
const char *addr_format(const struct netaddr *addr, char *buf, size_t size);
/* Address length in bytes for the family: 4 or 16. */
size_t addr_len(const struct netaddr *addr);

#endif
