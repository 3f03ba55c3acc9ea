/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_KEYS_H
#define TEMPUS_KEYS_H

#include <stdint.h>
#include <stdio.h>

#include "auth.h"

/* The symmetric key file, in the format operators know from chrony:
 *     ID TYPE KEY      e.g.  1 AES128 HEX:7EA62AE64D190114D46D5A082F948EC1
 *     ID KEY           an MD5 key (chrony's default type; warned about)
 * ID is 1..2^32-1, TYPE one of auth.h's names (case-insensitive), KEY
 * either HEX:digits or ASCII text without white space (an optional ASCII:
 * prefix). Lines whose first non-blank character is # ; ! or % are
 * comments. AES128 keys are 16 bytes, AES256 32; hash keys 1..AUTH_KEY_MAX
 * bytes (under 16 is warned about). The keys are kept in memory, wiped
 * when the store is destroyed. */

struct keys;

/* Read and parse path. The file must be a regular file that other users
 * can neither read nor write (the process's own user and group are the
 * operator's business). Every error goes to errs as "path:line: message"
 * (or "path: message"), warnings to the log. Returns 0 with *out set, or
 * -1 with *out NULL if there was any error. */
int keys_load(const char *path, FILE *errs, struct keys **out);
/* Parse key-file text held in memory (name is used in messages); same
 * contract as keys_load without the file checks. */
int keys_parse_string(const char *name, const char *text, FILE *errs, struct keys **out);
/* The key with this id, or NULL (also if keys is NULL). The pointer is
 * valid until keys_destroy. */
const struct auth_key *keys_find(const struct keys *keys, uint32_t id);
/* Number of keys held (0 for NULL). */
unsigned keys_count(const struct keys *keys);
/* Wipe and free the store; NULL is fine. */
void keys_destroy(struct keys *keys);
/* The byte that the two hex digits at s spell (either case), or -1 (s
 * must hold two characters, or a NUL first). Shared with the NTS keys
 * file reader. */
int keys_hex_byte(const char *s);

#endif
