/* ids.c - random identifiers (OpenSSL RAND_bytes) and timestamps.
 *
 * Alphabets are indexed with a byte modulo a size that divides 256 (16, 32,
 * 64) or by rejection (36 for room ids), so every character is equally
 * likely. Request ids put 48 bits of milliseconds first, in Crockford base32,
 * so that sorting them as strings sorts them by time. */
#include "ids.h"

#include <string.h>
#include <time.h>

#include <openssl/rand.h>

static const char hex_digits[] = "0123456789abcdef";
static const char room_alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789"; /* 36 */
static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";         /* 32 */
static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int random_bytes(unsigned char *buf, size_t n)
{
    return RAND_bytes(buf, (int)n) == 1 ? 0 : -1;
}

static int fail(char *out)
{
    out[0] = '\0';
    return -1;
}

/* n characters of a 16/32/64-letter alphabet (size divides 256). */
static int random_chars(char *out, size_t n, const char *alphabet, unsigned size)
{
    unsigned char buf[64];
    if (n > sizeof(buf) || random_bytes(buf, n))
        return -1;
    for (size_t i = 0; i < n; i++)
        out[i] = alphabet[buf[i] % size];
    return 0;
}

int parley_id_room(char out[PARLEY_ROOM_ID_LEN + 1])
{
    /* 252 = 7 * 36: bytes from 252 up are drawn again. */
    size_t filled = 0;
    unsigned char buf[32];
    while (filled < 12) {
        if (random_bytes(buf, sizeof(buf)))
            return fail(out);
        for (size_t i = 0; i < sizeof(buf) && filled < 12; i++) {
            if (buf[i] >= 252)
                continue;
            size_t pos = filled + filled / 4; /* skip the dashes */
            out[pos] = room_alphabet[buf[i] % 36];
            filled++;
        }
    }
    out[4] = out[9] = '-';
    out[PARLEY_ROOM_ID_LEN] = '\0';
    return 0;
}

int parley_id_hex24(char out[PARLEY_HEX_ID_LEN + 1])
{
    if (random_chars(out, PARLEY_HEX_ID_LEN, hex_digits, 16))
        return fail(out);
    out[PARLEY_HEX_ID_LEN] = '\0';
    return 0;
}

int parley_id_request(char out[PARLEY_REQUEST_ID_LEN + 1])
{
    uint64_t ms = (uint64_t)parley_now_ms() & ((UINT64_C(1) << 48) - 1);
    for (int i = 9; i >= 0; i--) { /* 10 chars of 5 bits = 50 bits >= 48 */
        out[i] = crockford[ms & 31];
        ms >>= 5;
    }
    if (random_chars(out + 10, 16, crockford, 32))
        return fail(out);
    out[PARLEY_REQUEST_ID_LEN] = '\0';
    return 0;
}

int parley_id_secret(char out[PARLEY_SECRET_LEN + 1])
{
    if (random_chars(out, PARLEY_SECRET_LEN, b64url, 64))
        return fail(out);
    out[PARLEY_SECRET_LEN] = '\0';
    return 0;
}

int parley_id_apikey(char out[PARLEY_APIKEY_LEN + 1])
{
    unsigned char b[16];
    if (random_bytes(b, sizeof(b)))
        return fail(out);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    size_t o = 0;
    for (size_t i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex_digits[b[i] >> 4];
        out[o++] = hex_digits[b[i] & 15];
    }
    out[o] = '\0';
    return 0;
}

int parley_id_api_secret(char out[PARLEY_API_SECRET_LEN + 1])
{
    if (random_chars(out, PARLEY_API_SECRET_LEN, hex_digits, 16))
        return fail(out);
    out[PARLEY_API_SECRET_LEN] = '\0';
    return 0;
}

bool parley_room_id_valid(const char *text)
{
    if (!text || strlen(text) != PARLEY_ROOM_ID_LEN)
        return false;
    for (size_t i = 0; i < PARLEY_ROOM_ID_LEN; i++) {
        char c = text[i];
        if (i == 4 || i == 9) {
            if (c != '-')
                return false;
        } else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
            return false;
        }
    }
    return true;
}

bool parley_hex24_valid(const char *text)
{
    if (!text || strlen(text) != PARLEY_HEX_ID_LEN)
        return false;
    for (size_t i = 0; i < PARLEY_HEX_ID_LEN; i++)
        if (!strchr(hex_digits, text[i]) || !text[i])
            return false;
    return true;
}

int64_t parley_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *parley_iso_time(int64_t ms, char out[PARLEY_ISO_TIME_LEN + 1])
{
    int64_t secs = ms / 1000, rem = ms % 1000;
    if (rem < 0) {
        rem += 1000;
        secs -= 1;
    }
    time_t t = (time_t)secs;
    struct tm tm;
    if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999) {
        memcpy(out, "1970-01-01T00:00:00.000Z", PARLEY_ISO_TIME_LEN + 1);
        return out;
    }
    size_t n = strftime(out, PARLEY_ISO_TIME_LEN + 1, "%Y-%m-%dT%H:%M:%S", &tm);
    if (n != 19) {
        memcpy(out, "1970-01-01T00:00:00.000Z", PARLEY_ISO_TIME_LEN + 1);
        return out;
    }
    out[19] = '.';
    out[20] = (char)('0' + rem / 100);
    out[21] = (char)('0' + rem / 10 % 10);
    out[22] = (char)('0' + rem % 10);
    out[23] = 'Z';
    out[24] = '\0';
    return out;
}

static bool digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

bool parley_iso_time_parse(const char *text, int64_t *ms)
{
    if (!text || strlen(text) < 20)
        return false;
    int y, mo, d, h, mi, s, frac = 0;
    if (!digits(text, 4, &y) || text[4] != '-' || !digits(text + 5, 2, &mo) || text[7] != '-' ||
        !digits(text + 8, 2, &d) || text[10] != 'T' || !digits(text + 11, 2, &h) ||
        text[13] != ':' || !digits(text + 14, 2, &mi) || text[16] != ':' ||
        !digits(text + 17, 2, &s))
        return false;
    const char *p = text + 19;
    if (*p == '.') {
        p++;
        int n = 0, scale = 100;
        while (*p >= '0' && *p <= '9') {
            if (n < 3)
                frac += (*p - '0') * scale;
            scale /= 10;
            n++;
            p++;
        }
        if (n == 0)
            return false;
    }
    int offset = 0;
    if (*p == 'Z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om) || oh > 23 || om > 59)
            return false;
        offset = (oh * 60 + om) * 60 * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return false;
    }
    if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
        return false;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
                    .tm_hour = h, .tm_min = mi, .tm_sec = s};
    time_t t = timegm(&tm);
    if (t == (time_t)-1 && !(y == 1969 && mo == 12 && d == 31))
        return false;
    *ms = ((int64_t)t - offset) * 1000 + frac;
    return true;
}
