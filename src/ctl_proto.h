/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_CTL_PROTO_H
#define TEMPUS_CTL_PROTO_H

#include <stddef.h>
#include <stdint.h>

/* The control protocol between tempusd and tempusctl over a Unix socket.
 *
 * Framing: every message is a 12-byte header then a payload.
 *   bytes 0-3   magic "TPCL"
 *   bytes 4-5   version (big-endian), CTL_VERSION
 *   bytes 6-7   type (big-endian), enum ctl_type
 *   bytes 8-11  payload length (big-endian), at most CTL_MAX_REQUEST for a
 *               request and CTL_MAX_REPLY for a reply
 * A peer that sends a bad magic, version, type or length is disconnected.
 *
 * Request payload: one line of printable ASCII, the command and its
 * arguments separated by spaces, no newline ("sources", "clients 50").
 *
 * Reply payload: records. A record is lines "key=value\n" ended by an empty
 * line. Keys are [a-z0-9_]+. A value is a number (printed with %lld or
 * %.9g, %.15g from 1e6 up so timestamps keep their fraction; always a JSON
 * number) or a string in double quotes with \" and \\ escaped; values never
 * contain control characters. The first field of every record is
 * record="KIND". The record kinds and their fields are the stable interface
 * that `tempusctl --json` and the Prometheus metrics expose (doc/tempusctl.8
 * lists them):
 *
 *   tracking     synced local outcome refid refid_str ref_name stratum leap
 *                offset rms_offset freq_ppm freq_err_ppm system_offset
 *                root_delay root_dispersion ref_time since_update
 *                update_interval ntruechimers peer_changes nsources steps
 *                last_step clock
 *   source       index name state stratum poll reach reachable age offset
 *                delay dispersion jitter root_delay root_dispersion distance
 *                leap refid nsamples sent received bogus kods prefer noselect
 *   sourcestats  index name nsamples span freq_ppm skew_ppm offset stddev
 *   client       address requests drops kods last_seen
 *   serverstats  family received answered denied ratelimited kod malformed
 *                wrong_mode control auth_dropped auth_failed auth_ok empty
 *                oversized
 *   serverinfo   clients clients_capacity table_bytes ratelimit
 *   recent       uptime window received_ipv4 denied_ipv4 received_ipv6
 *                denied_ipv6 peer_changes steps
 *   result       ok message          (reload and errors)
 *   error        message            (one per config error on reload)
 */

#define CTL_DEFAULT_SOCKET "/run/tempus/tempusd.sock"
#define CTL_MAGIC "TPCL"
#define CTL_VERSION 1
#define CTL_HEADER_LEN 12
#define CTL_MAX_REQUEST 4096
#define CTL_MAX_REPLY (1u << 20)
#define CTL_MAX_FIELDS 48
#define CTL_MAX_STRING 512

enum ctl_type {
    CTL_REQUEST = 1,
    CTL_REPLY = 2,       /* records follow */
    CTL_REPLY_ERROR = 3, /* one result record with ok=0 and a message */
};

/* Encode a header for a payload of len bytes into out. */
void ctl_header_encode(uint8_t out[CTL_HEADER_LEN], enum ctl_type type, uint32_t len);
/* Decode and check a header: magic, version, type known, length within max.
 * Returns 0 with *type and *len set, or -1. */
int ctl_header_decode(const uint8_t in[CTL_HEADER_LEN], size_t max, enum ctl_type *type,
                      uint32_t *len);

/* A growing output buffer with a hard limit: past max it stops growing and
 * remembers the overflow, so a writer never needs to check every call. */
struct ctl_buf {
    char *data;
    size_t len, cap, max;
    int overflow;
};

void ctl_buf_init(struct ctl_buf *b, size_t max);
void ctl_buf_free(struct ctl_buf *b);
/* Append raw bytes / formatted text (sets overflow instead of passing max). */
void ctl_buf_append(struct ctl_buf *b, const void *p, size_t n);
void ctl_buf_printf(struct ctl_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Record writer. ctl_rec_begin writes record="kind"; ctl_rec_end the blank
 * line. Strings are quoted and escaped, control characters dropped, and cut
 * at CTL_MAX_STRING bytes. Non-finite doubles are written as 0. */
void ctl_rec_begin(struct ctl_buf *b, const char *kind);
void ctl_rec_str(struct ctl_buf *b, const char *key, const char *value);
void ctl_rec_int(struct ctl_buf *b, const char *key, long long value);
void ctl_rec_double(struct ctl_buf *b, const char *key, double value);
void ctl_rec_end(struct ctl_buf *b);

/* A parsed record: pointers into the payload buffer, which parsing modifies
 * in place (NUL terminators, unescaping). */
struct ctl_field {
    const char *key;
    const char *value; /* unquoted */
    int is_string;     /* 1: was quoted; 0: a number */
};

struct ctl_record {
    const char *kind; /* value of the record field */
    unsigned n;
    struct ctl_field f[CTL_MAX_FIELDS];
};

/* Parse payload (len bytes, modified in place) into at most max records.
 * Returns the number of records, or -1 if anything is malformed (bad key,
 * bad quoting, a number that does not parse, no record field first, too
 * many fields, missing final blank line). */
int ctl_records_parse(char *payload, size_t len, struct ctl_record *out, size_t max);
/* Value of key in r, or NULL. */
const char *ctl_rec_get(const struct ctl_record *r, const char *key);
/* Numeric value of key in r, or dflt if absent or not a number. */
double ctl_rec_num(const struct ctl_record *r, const char *key, double dflt);

/* Whether a request line is well-formed: 1..CTL_MAX_REQUEST bytes of
 * printable ASCII (0x20-0x7e), no leading space. */
int ctl_request_valid(const char *line, size_t len);

#endif
