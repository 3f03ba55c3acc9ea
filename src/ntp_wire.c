/* SPDX-License-Identifier: ISC */
#include "ntp_wire.h"

#include <string.h>

#define EXT_HDR_LEN 4
#define EXT_MAX_LEN 0xfffcu /* largest multiple of 4 the 16-bit length can hold */
#define TX_TS_OFF 40

static uint16_t get_be16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get_be64(const uint8_t *p)
{
    return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

static void put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void put_be64(uint8_t *p, uint64_t v)
{
    put_be32(p, (uint32_t)(v >> 32));
    put_be32(p + 4, (uint32_t)v);
}

/* An extension field length is acceptable if RFC 7822 allows it and it fits
 * in the avail bytes that are left. */
static int ext_len_ok(size_t flen, size_t avail)
{
    return flen >= NTP_EXT_MIN_LEN && flen % 4 == 0 && flen <= avail;
}

int ntp_wire_decode_header(const uint8_t *buf, size_t len, struct ntp_header *out)
{
    if (len < NTP_HEADER_LEN)
        return -1;
    out->leap = buf[0] >> 6;
    out->version = (buf[0] >> 3) & 7;
    out->mode = buf[0] & 7;
    out->stratum = buf[1];
    /* Two's complement bytes; the conversion is spelled out so it does not
     * depend on implementation-defined narrowing. */
    out->poll = (int8_t)(buf[2] < 128 ? buf[2] : buf[2] - 256);
    out->precision = (int8_t)(buf[3] < 128 ? buf[3] : buf[3] - 256);
    out->root_delay = get_be32(buf + 4);
    out->root_dispersion = get_be32(buf + 8);
    out->refid = get_be32(buf + 12);
    out->ref_ts = get_be64(buf + 16);
    out->org_ts = get_be64(buf + 24);
    out->rx_ts = get_be64(buf + 32);
    out->tx_ts = get_be64(buf + TX_TS_OFF);
    return 0;
}

size_t ntp_wire_encode_header(const struct ntp_header *hdr, uint8_t *buf, size_t cap)
{
    if (cap < NTP_HEADER_LEN)
        return 0;
    buf[0] = (uint8_t)((hdr->leap & 3) << 6 | (hdr->version & 7) << 3 | (hdr->mode & 7));
    buf[1] = hdr->stratum;
    buf[2] = (uint8_t)hdr->poll;
    buf[3] = (uint8_t)hdr->precision;
    put_be32(buf + 4, hdr->root_delay);
    put_be32(buf + 8, hdr->root_dispersion);
    put_be32(buf + 12, hdr->refid);
    put_be64(buf + 16, hdr->ref_ts);
    put_be64(buf + 24, hdr->org_ts);
    put_be64(buf + 32, hdr->rx_ts);
    put_be64(buf + TX_TS_OFF, hdr->tx_ts);
    return NTP_HEADER_LEN;
}

/* Walk extension fields from *off. A legacy MAC has no type/length of its
 * own, so RFC 7822 settles the ambiguity by size: while more than the
 * largest NTPv4 MAC remains, the next bytes must be an extension field. A
 * whole long digest (a 36-byte SHA256 MAC) therefore cannot follow a v4
 * header, which chrony (4.0 and later) does not accept either. */
static int walk_ext(const uint8_t *buf, size_t len, size_t *off, unsigned *n_ext)
{
    while (len - *off > NTP_MAC_MAX_LEN_V4) {
        size_t flen = get_be16(buf + *off + 2);
        if (!ext_len_ok(flen, len - *off))
            return -1;
        *off += flen;
        (*n_ext)++;
    }
    return 0;
}

/* Whatever follows the extension fields is either nothing or one MAC of
 * at most max bytes. */
static int parse_mac(const uint8_t *buf, size_t len, size_t off, size_t max,
                     struct ntp_packet_info *out)
{
    size_t rest = len - off;

    if (rest == 0)
        return 0;
    if (rest < NTP_MAC_MIN_LEN || rest > max || rest % 4 != 0)
        return -1;
    out->mac_off = off;
    out->mac_len = rest;
    out->key_id = get_be32(buf + off);
    return 0;
}

/* Before v4 nothing but a MAC can follow the header, so it may be as long
 * as a whole digest; unknown later versions get the v4 limit. */
static size_t mac_max_len(unsigned version)
{
    return version < 4 ? NTP_MAC_MAX_LEN : NTP_MAC_MAX_LEN_V4;
}

int ntp_wire_parse(const uint8_t *buf, size_t len, struct ntp_packet_info *out)
{
    size_t off = NTP_HEADER_LEN;

    memset(out, 0, sizeof(*out));
    if (ntp_wire_decode_header(buf, len, &out->hdr) < 0)
        goto bad;
    /* Even without fields ext_off is the header end, so iteration over an
     * empty range ends at once. */
    out->ext_off = NTP_HEADER_LEN;
    if (out->hdr.version == 4 && walk_ext(buf, len, &off, &out->n_ext) < 0)
        goto bad;
    out->ext_len = off - NTP_HEADER_LEN;
    if (parse_mac(buf, len, off, mac_max_len(out->hdr.version), out) < 0)
        goto bad;
    return 0;
bad:
    /* Leave nothing half-filled that a careless caller could act on. */
    memset(out, 0, sizeof(*out));
    return -1;
}

int ntp_wire_ext_next(const uint8_t *buf, const struct ntp_packet_info *info, size_t *off,
                      struct ntp_ext *ext)
{
    /* info is trusted only as far as it is cheap to check: a corrupted one
     * must not make us read outside the range it names. */
    if (info->ext_len > SIZE_MAX - info->ext_off)
        return -1;
    size_t end = info->ext_off + info->ext_len;
    if (*off == end)
        return 0;
    if (*off < info->ext_off || *off > end || end - *off < EXT_HDR_LEN)
        return -1;
    size_t flen = get_be16(buf + *off + 2);
    if (!ext_len_ok(flen, end - *off))
        return -1;
    ext->type = get_be16(buf + *off);
    ext->length = (uint16_t)flen;
    ext->value = buf + *off + EXT_HDR_LEN;
    ext->value_len = flen - EXT_HDR_LEN;
    *off += flen;
    return 1;
}

int ntp_wire_ext_append(uint8_t *buf, size_t cap, size_t *off, uint16_t type, const uint8_t *value,
                        size_t value_len)
{
    if (value_len > EXT_MAX_LEN - EXT_HDR_LEN)
        return -1;
    size_t flen = (EXT_HDR_LEN + value_len + 3) & ~(size_t)3;
    if (flen < NTP_EXT_MIN_LEN)
        flen = NTP_EXT_MIN_LEN;
    if (*off > cap || flen > cap - *off)
        return -1;
    uint8_t *p = buf + *off;
    put_be16(p, type);
    put_be16(p + 2, (uint16_t)flen);
    if (value_len > 0)
        memcpy(p + EXT_HDR_LEN, value, value_len);
    memset(p + EXT_HDR_LEN + value_len, 0, flen - EXT_HDR_LEN - value_len);
    *off += flen;
    return 0;
}

void ntp_wire_set_tx(uint8_t *buf, ntp_ts_t tx)
{
    put_be64(buf + TX_TS_OFF, tx);
}

uint32_t ntp_wire_refid_ascii(const char *code)
{
    uint32_t id = 0;
    size_t i;

    /* RFC 5905: left-justified, zero-padded to four octets. */
    for (i = 0; i < 4; i++) {
        id <<= 8;
        if (code[0] != '\0')
            id |= (uint8_t)*code++;
    }
    return id;
}
