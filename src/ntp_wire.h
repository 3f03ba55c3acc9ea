/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_NTP_WIRE_H
#define TEMPUS_NTP_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "timefmt.h"

#define NTP_HEADER_LEN 48
#define NTP_MAX_PACKET 1500
/* Legacy MAC sizes after the header/extensions: key id (4) + digest. A
 * 4-byte MAC is a crypto-NAK (key id 0). In NTPv4 a MAC is at most 24
 * bytes (RFC 7822): digests of 16 (MD5, AES-CMAC) or 20 bytes (SHA1, and
 * longer hashes cut to 20), which is what tells it from an extension field.
 * Earlier versions have no extension fields, and there a MAC may carry a
 * hash's whole digest, up to 64 bytes (SHA512): chrony's client sends
 * NTPv3 with such full MACs by default for keys of hashes over 160 bits. */
#define NTP_MAC_MIN_LEN 4
#define NTP_MAC_MAX_LEN_V4 24
#define NTP_MAC_MAX_LEN 68 /* any version: key id + 64-byte digest */
#define NTP_EXT_MIN_LEN 16

enum ntp_mode {
    NTP_MODE_RESERVED = 0,
    NTP_MODE_ACTIVE = 1,
    NTP_MODE_PASSIVE = 2,
    NTP_MODE_CLIENT = 3,
    NTP_MODE_SERVER = 4,
    NTP_MODE_BROADCAST = 5,
    NTP_MODE_CONTROL = 6,
    NTP_MODE_PRIVATE = 7,
};

enum ntp_leap { NTP_LEAP_NONE = 0, NTP_LEAP_ADD = 1, NTP_LEAP_DEL = 2, NTP_LEAP_UNSYNC = 3 };

/* The 48-byte header, fields in host order; short-format fields stay raw. */
struct ntp_header {
    uint8_t leap;    /* 0..3 */
    uint8_t version; /* 0..7 */
    uint8_t mode;    /* 0..7 */
    uint8_t stratum;
    int8_t poll;
    int8_t precision;
    uint32_t root_delay; /* NTP short format */
    uint32_t root_dispersion;
    uint32_t refid; /* host order of the 4 wire bytes (big-endian read) */
    ntp_ts_t ref_ts;
    ntp_ts_t org_ts;
    ntp_ts_t rx_ts;
    ntp_ts_t tx_ts;
};

/* One extension field (RFC 7822): value points into the caller's buffer. */
struct ntp_ext {
    uint16_t type;
    uint16_t length; /* whole field, header included, as on the wire */
    const uint8_t *value;
    size_t value_len; /* length - 4 */
};

/* A whole packet's layout after validation. Offsets index the caller's buffer. */
struct ntp_packet_info {
    struct ntp_header hdr;
    unsigned n_ext;   /* number of extension fields */
    size_t ext_off;   /* first extension field (== 48 when n_ext > 0) */
    size_t ext_len;   /* bytes of all extension fields */
    size_t mac_off;   /* start of the MAC (key id), 0 if none */
    size_t mac_len;   /* key id + digest, 0 if none */
    uint32_t key_id;  /* valid when mac_len > 0 */
};

/* Decode the 48-byte header; returns 0, or -1 if len < 48. */
int ntp_wire_decode_header(const uint8_t *buf, size_t len, struct ntp_header *out);
/* Encode hdr into buf; returns 48, or 0 if cap < 48. */
size_t ntp_wire_encode_header(const struct ntp_header *hdr, uint8_t *buf, size_t cap);
/* Validate a whole packet: header, extension fields (version 4 only, RFC
 * 7822 rules: each >= 16 bytes, multiple of 4, inside the buffer), then an
 * optional trailing MAC, a multiple of 4 bytes: 4..24 bytes in version 4
 * and later, 4..68 bytes (NTP_MAC_MAX_LEN) below version 4, where there are
 * no extension fields and anything after the header must be the MAC.
 * Returns 0, or -1 if any length is inconsistent. Never reads past len. */
int ntp_wire_parse(const uint8_t *buf, size_t len, struct ntp_packet_info *out);
/* Iterate extension fields of a packet that ntp_wire_parse accepted:
 * *off starts at info->ext_off; returns 1 and advances *off for each field,
 * 0 at the end, -1 on an inconsistency. */
int ntp_wire_ext_next(const uint8_t *buf, const struct ntp_packet_info *info, size_t *off,
                      struct ntp_ext *ext);
/* Append an extension field (type, value padded to a multiple of 4, at
 * least 16 bytes total) at *off; returns 0, or -1 if it would pass cap. */
int ntp_wire_ext_append(uint8_t *buf, size_t cap, size_t *off, uint16_t type,
                        const uint8_t *value, size_t value_len);
/* Overwrite the 64-bit transmit timestamp in place (offset 40); buf must
 * hold at least the 48-byte header. */
void ntp_wire_set_tx(uint8_t *buf, ntp_ts_t tx);
/* Reference id from 4 ASCII characters ("RATE", "LOCL", ...). */
uint32_t ntp_wire_refid_ascii(const char *code);

#endif
