/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_AUDIT_NET_H
#define TEMPUS_AUDIT_NET_H

/* `tempusctl audit [OPTIONS] HOST[:PORT]|[ADDR]:PORT|@FILE ...`: resolve each
 * server (first address), ask each --count mode 3 questions (default 4),
 * one per server per --interval (default 2 s, at least 0.5 s), waiting
 * --timeout for answers (default 1 s); a server that sends a kiss-o'-death
 * is asked no more. Then judge the fleet (audit.h) and print the verdict
 * line and a table, or with --json one object. argv[0] is the command
 * name. Returns the exit status: 0 OK, 1 warning, 2 critical, 3 unknown
 * (bad arguments, output not written). */
int audit_command(int argc, char **argv, int json);

#endif
