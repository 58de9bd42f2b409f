/* cert.c - making, loading and fingerprinting the SFU's DTLS certificate.
 *
 * Everything cryptographic is OpenSSL's (EVP_EC_gen, X509_sign, X509_digest);
 * this file only chooses the parameters and formats the fingerprint. */
#include "cert.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include "errtext.h"

struct parley_cert {
    X509 *x509;
    EVP_PKEY *pkey;
    char fingerprint[PARLEY_FINGERPRINT_LEN];
};

int parley_fingerprint_of(X509 *x, char out[PARLEY_FINGERPRINT_LEN])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    if (!x || !X509_digest(x, EVP_sha256(), md, &n) || n != PARLEY_FINGERPRINT_BYTES) {
        ERR_clear_error();
        return -1;
    }
    static const char hex[] = "0123456789ABCDEF";
    memcpy(out, "sha-256 ", 8);
    char *p = out + 8;
    for (unsigned i = 0; i < n; i++) {
        *p++ = hex[md[i] >> 4];
        *p++ = hex[md[i] & 15];
        *p++ = i + 1 < n ? ':' : '\0';
    }
    return 0;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

bool parley_fingerprint_parse(const char *s, uint8_t out[PARLEY_FINGERPRINT_BYTES])
{
    if (!s)
        return false;
    while (*s == ' ' || *s == '\t')
        s++;
    if (!strncasecmp(s, "sha-256", 7) && (s[7] == ' ' || s[7] == '\t')) {
        s += 7;
        while (*s == ' ' || *s == '\t')
            s++;
    }
    for (int i = 0; i < PARLEY_FINGERPRINT_BYTES; i++) {
        int hi = hexval((unsigned char)s[0]), lo = hi < 0 ? -1 : hexval((unsigned char)s[1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (uint8_t)(hi << 4 | lo);
        s += 2;
        if (i + 1 < PARLEY_FINGERPRINT_BYTES && *s++ != ':')
            return false;
    }
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
        s++;
    return *s == '\0';
}

static parley_cert *finish(X509 *x, EVP_PKEY *k, char *err, size_t errlen)
{
    parley_cert *c = calloc(1, sizeof *c);
    if (!c || parley_fingerprint_of(x, c->fingerprint) != 0) {
        parley_errtext(err, errlen, "cannot fingerprint the certificate");
        free(c);
        X509_free(x);
        EVP_PKEY_free(k);
        return NULL;
    }
    c->x509 = x;
    c->pkey = k;
    return c;
}

parley_cert *parley_cert_generate(unsigned days, char *err, size_t errlen)
{
    if (days == 0)
        days = PARLEY_CERT_DEFAULT_DAYS;
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    BIGNUM *serial = BN_new();
    X509_NAME *name = X509_NAME_new();
    bool ok = k && x && serial && name;
    /* a positive 63-bit random serial */
    ok = ok && BN_rand(serial, 63, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) &&
         BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x));
    ok = ok && X509_set_version(x, X509_VERSION_3) &&
         X509_gmtime_adj(X509_getm_notBefore(x), -3600) &&
         X509_gmtime_adj(X509_getm_notAfter(x), (long)days * 86400) &&
         X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"parley",
                                    -1, -1, 0) &&
         X509_set_subject_name(x, name) && X509_set_issuer_name(x, name) &&
         X509_set_pubkey(x, k) && X509_sign(x, k, EVP_sha256()) > 0;
    BN_free(serial);
    X509_NAME_free(name);
    if (!ok) {
        parley_errtext_ssl(err, errlen, "cannot make a certificate");
        X509_free(x);
        EVP_PKEY_free(k);
        return NULL;
    }
    return finish(x, k, err, errlen);
}

parley_cert *parley_cert_load(const char *cert_path, const char *key_path, char *err,
                              size_t errlen)
{
    FILE *f = cert_path ? fopen(cert_path, "r") : NULL;
    if (!f) {
        parley_errtext(err, errlen, "%s: %s", cert_path ? cert_path : "(null)", strerror(errno));
        return NULL;
    }
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    if (!x) {
        parley_errtext_ssl(err, errlen, "not a PEM certificate");
        return NULL;
    }
    f = key_path ? fopen(key_path, "r") : NULL;
    if (!f) {
        parley_errtext(err, errlen, "%s: %s", key_path ? key_path : "(null)", strerror(errno));
        X509_free(x);
        return NULL;
    }
    EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    if (!k || X509_check_private_key(x, k) != 1) {
        parley_errtext_ssl(err, errlen,
                k ? "the key does not match the certificate" : "not a PEM private key");
        X509_free(x);
        EVP_PKEY_free(k);
        return NULL;
    }
    return finish(x, k, err, errlen);
}

int parley_cert_save(const parley_cert *c, const char *cert_path, const char *key_path,
                     char *err, size_t errlen)
{
    FILE *f = fopen(cert_path, "w");
    if (!f || !PEM_write_X509(f, c->x509)) {
        parley_errtext(err, errlen, "%s: cannot write the certificate", cert_path);
        if (f)
            fclose(f);
        ERR_clear_error();
        return -1;
    }
    fclose(f);
    int fd = open(key_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f || !PEM_write_PrivateKey(f, c->pkey, NULL, NULL, 0, NULL, NULL)) {
        parley_errtext(err, errlen, "%s: cannot write the key", key_path);
        if (f)
            fclose(f);
        else if (fd >= 0)
            close(fd);
        ERR_clear_error();
        return -1;
    }
    fclose(f);
    return 0;
}

void parley_cert_free(parley_cert *c)
{
    if (!c)
        return;
    X509_free(c->x509);
    EVP_PKEY_free(c->pkey);
    free(c);
}

const char *parley_cert_fingerprint(const parley_cert *c)
{
    return c->fingerprint;
}

X509 *parley_cert_x509(const parley_cert *c)
{
    return c->x509;
}

EVP_PKEY *parley_cert_pkey(const parley_cert *c)
{
    return c->pkey;
}
