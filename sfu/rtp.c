/* rtp.c - RTP header, header extension, audio level and VP8 descriptor
 * parsing, and the in-place field rewrites of the forwarding path.
 *
 * Every length is checked against the buffer before the bytes are read, so a
 * hostile packet can only be refused, never read past. Extension elements are
 * walked on lookup rather than indexed on parse: most packets are forwarded
 * without anyone asking for an extension. */
#include "rtp.h"

parley_rtp_status parley_rtp_parse(const uint8_t *pkt, size_t len, parley_rtp_header *h)
{
    if (len > UINT16_MAX)
        return PARLEY_RTP_TOO_LONG;
    if (len < PARLEY_RTP_MIN_HEADER)
        return PARLEY_RTP_TRUNCATED;
    h->version = pkt[0] >> 6;
    if (h->version != 2)
        return PARLEY_RTP_BAD_VERSION;
    h->padding = pkt[0] & 0x20;
    h->extension = pkt[0] & 0x10;
    h->csrc_count = pkt[0] & 0x0f;
    h->marker = pkt[1] & 0x80;
    h->payload_type = pkt[1] & 0x7f;
    h->seq = parley_rd16(pkt + 2);
    h->timestamp = parley_rd32(pkt + 4);
    h->ssrc = parley_rd32(pkt + 8);
    h->ext_profile = 0;
    h->ext_offset = 0;
    h->ext_len = 0;

    size_t off = PARLEY_RTP_MIN_HEADER + 4u * h->csrc_count;
    if (off > len)
        return PARLEY_RTP_TRUNCATED;
    if (h->extension) {
        if (off + 4 > len)
            return PARLEY_RTP_TRUNCATED;
        size_t ext_len = 4u * parley_rd16(pkt + off + 2);
        if (off + 4 + ext_len > len)
            return PARLEY_RTP_TRUNCATED;
        h->ext_profile = parley_rd16(pkt + off);
        h->ext_offset = (uint16_t)(off + 4);
        h->ext_len = (uint16_t)ext_len;
        off += 4 + ext_len;
    }
    h->header_len = (uint16_t)off;
    h->padding_len = 0;
    if (h->padding) {
        uint8_t n = pkt[len - 1];
        if (off == len || n == 0 || n > len - off)
            return PARLEY_RTP_BAD_PADDING;
        h->padding_len = n;
    }
    h->payload_len = (uint16_t)(len - off - h->padding_len);
    return PARLEY_RTP_OK;
}

bool parley_rtp_is_rtcp(const uint8_t *pkt, size_t len)
{
    return len >= 2 && pkt[1] >= 192 && pkt[1] <= 223;
}

bool parley_rtp_ext_find(const uint8_t *pkt, const parley_rtp_header *h, uint8_t id,
                         const uint8_t **data, size_t *len)
{
    if (!h->extension || id == 0)
        return false;
    const uint8_t *p = pkt + h->ext_offset, *end = p + h->ext_len;
    if (h->ext_profile == PARLEY_RTP_EXT_ONE_BYTE) {
        if (id > 14)
            return false;
        while (p < end) {
            uint8_t eid = *p >> 4;
            size_t elen = (size_t)(*p & 0x0f) + 1;
            if (eid == 0) { /* padding byte */
                p++;
                continue;
            }
            if (eid == 15) /* reserved: stop here (RFC 8285 §4.2) */
                return false;
            if ((size_t)(end - p - 1) < elen)
                return false;
            if (eid == id) {
                *data = p + 1;
                *len = elen;
                return true;
            }
            p += 1 + elen;
        }
    } else if ((h->ext_profile & 0xfff0u) == PARLEY_RTP_EXT_TWO_BYTE) {
        while (p < end) {
            uint8_t eid = p[0];
            if (eid == 0) {
                p++;
                continue;
            }
            if (end - p < 2)
                return false;
            size_t elen = p[1];
            if ((size_t)(end - p - 2) < elen)
                return false;
            if (eid == id) {
                *data = p + 2;
                *len = elen;
                return true;
            }
            p += 2 + elen;
        }
    }
    return false;
}

bool parley_rtp_audio_level(const uint8_t *pkt, const parley_rtp_header *h, uint8_t id,
                            bool *voice, uint8_t *level)
{
    const uint8_t *d;
    size_t n;
    if (!parley_rtp_ext_find(pkt, h, id, &d, &n) || n < 1)
        return false;
    *voice = d[0] & 0x80;
    *level = d[0] & 0x7f;
    return true;
}

bool parley_vp8_parse(const uint8_t *payload, size_t len, parley_vp8_desc *d)
{
    size_t off = 0;
    if (len < 1)
        return false;
    uint8_t b = payload[off++];
    bool x = b & 0x80;
    *d = (parley_vp8_desc){
        .non_reference = b & 0x20,
        .start = b & 0x10,
        .partition = b & 0x07,
    };
    if (x) {
        if (off >= len)
            return false;
        uint8_t e = payload[off++];
        d->has_picture_id = e & 0x80;
        d->has_tl0picidx = e & 0x40;
        bool t = e & 0x20, k = e & 0x10;
        if (d->has_picture_id) {
            if (off >= len)
                return false;
            if (payload[off] & 0x80) {
                if (off + 2 > len)
                    return false;
                d->picture_id_16 = true;
                d->picture_id = (uint16_t)((payload[off] & 0x7f) << 8 | payload[off + 1]);
                off += 2;
            } else {
                d->picture_id = payload[off++];
            }
        }
        if (d->has_tl0picidx) {
            if (off >= len)
                return false;
            d->tl0picidx = payload[off++];
        }
        if (t || k) {
            if (off >= len)
                return false;
            uint8_t tk = payload[off++];
            d->has_tid = t;
            d->has_keyidx = k;
            if (t) {
                d->tid = tk >> 6;
                d->layer_sync = tk & 0x20;
            }
            if (k)
                d->keyidx = tk & 0x1f;
        }
    }
    d->desc_len = (uint8_t)off;
    d->frame_start = d->start && d->partition == 0;
    if (d->frame_start) {
        if (off >= len)
            return false;
        d->keyframe = !(payload[off] & 0x01); /* P bit of the payload header (RFC 6386 §9.1) */
    }
    return true;
}

void parley_vp8_set_picture_id(uint8_t *payload, const parley_vp8_desc *d, uint16_t picture_id)
{
    if (!d->has_picture_id)
        return;
    if (d->picture_id_16) {
        payload[2] = (uint8_t)(0x80 | ((picture_id >> 8) & 0x7f));
        payload[3] = (uint8_t)picture_id;
    } else {
        payload[2] = picture_id & 0x7f;
    }
}

void parley_vp8_set_tl0picidx(uint8_t *payload, const parley_vp8_desc *d, uint8_t tl0picidx)
{
    if (d->has_tl0picidx)
        payload[2 + (d->has_picture_id ? 1 + d->picture_id_16 : 0)] = tl0picidx;
}

void parley_rtp_set_ssrc(uint8_t *pkt, uint32_t ssrc) { parley_wr32(pkt + 8, ssrc); }
void parley_rtp_set_seq(uint8_t *pkt, uint16_t seq) { parley_wr16(pkt + 2, seq); }
void parley_rtp_set_timestamp(uint8_t *pkt, uint32_t ts) { parley_wr32(pkt + 4, ts); }
void parley_rtp_set_payload_type(uint8_t *pkt, uint8_t pt)
{
    pkt[1] = (uint8_t)((pkt[1] & 0x80) | (pt & 0x7f));
}
