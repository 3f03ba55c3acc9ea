/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_ACL_H
#define TEMPUS_ACL_H

#include "addr.h"

/* Access control: a set of allow/deny subnets. Deny by default; the most
 * specific (longest prefix) matching rule wins; for the same subnet the rule
 * added last wins. IPv4 and IPv6 rules are separate; "all" adds 0.0.0.0/0
 * and ::/0. IPv4-mapped IPv6 sources arrive as IPv4 (see addr.h). */
struct acl;

/* New empty table (denies everything); never NULL. */
struct acl *acl_create(void);
void acl_destroy(struct acl *acl);
/* Add a rule. spec is "all", an address, or ADDR/PREFIX. allow: 1 allow,
 * 0 deny. Returns 0, or -1 if spec does not parse (nothing added). */
int acl_add(struct acl *acl, const char *spec, int allow);
/* 1 if addr is allowed, 0 if denied. */
int acl_check(const struct acl *acl, const struct netaddr *addr);
/* Number of rules (after merging identical subnets). */
unsigned acl_count(const struct acl *acl);

#endif
