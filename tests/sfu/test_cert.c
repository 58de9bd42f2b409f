/* test_cert.c - the SFU's DTLS certificate: generation (ECDSA P-256, validity,
 * random serial), the SDP fingerprint form, and loading from PEM files. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "../lib/tap.h"
#include "cert.h"

static char tmpdir[] = "/tmp/parley-test-cert-XXXXXX";

static bool is_upper_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

TEST(generated_fingerprint_is_sdp_form)
{
    char err[256] = "";
    parley_cert *c = parley_cert_generate(0, err, sizeof err);
    REQUIRE(c);
    const char *fp = parley_cert_fingerprint(c);
    CHECKF(strlen(fp) == PARLEY_FINGERPRINT_LEN - 1, "%zu", strlen(fp));
    CHECK(!strncmp(fp, "sha-256 ", 8));
    bool form = true;
    for (int i = 0; i < PARLEY_FINGERPRINT_BYTES; i++) {
        const char *p = fp + 8 + 3 * i;
        form = form && is_upper_hex(p[0]) && is_upper_hex(p[1]) &&
               (i + 1 == PARLEY_FINGERPRINT_BYTES ? p[2] == '\0' : p[2] == ':');
    }
    CHECKF(form, "%s", fp);

    /* the fingerprint is the SHA-256 of the DER certificate */
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    uint8_t parsed[PARLEY_FINGERPRINT_BYTES];
    CHECK(X509_digest(parley_cert_x509(c), EVP_sha256(), md, &n) && n == 32);
    CHECK(parley_fingerprint_parse(fp, parsed));
    CHECK(!memcmp(md, parsed, 32));
    parley_cert_free(c);
}

TEST(generated_cert_parameters)
{
    char err[256] = "";
    parley_cert *a = parley_cert_generate(30, err, sizeof err);
    parley_cert *b = parley_cert_generate(30, err, sizeof err);
    REQUIRE(a && b);
    EVP_PKEY *k = parley_cert_pkey(a);
    char group[64] = "";
    size_t glen = 0;
    CHECK(EVP_PKEY_is_a(k, "EC"));
    CHECK(EVP_PKEY_get_utf8_string_param(k, "group", group, sizeof group, &glen));
    CHECKF(!strcmp(group, "prime256v1"), "%s", group);
    X509 *x = parley_cert_x509(a);
    CHECK(X509_check_private_key(x, k) == 1);
    /* self-signed: verifies with its own key */
    CHECK(X509_verify(x, k) == 1);
    /* valid now, and for about 30 days */
    int days = 0, secs = 0;
    CHECK(X509_cmp_current_time(X509_get0_notBefore(x)) < 0);
    CHECK(ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(x)));
    CHECKF(days == 29 || days == 30, "%d days", days);
    /* random serials, distinct keys */
    BIGNUM *sa = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    BIGNUM *sb = ASN1_INTEGER_to_BN(X509_get0_serialNumber(parley_cert_x509(b)), NULL);
    CHECK(sa && sb && !BN_is_zero(sa) && !BN_is_negative(sa) && BN_cmp(sa, sb) != 0);
    BN_free(sa);
    BN_free(sb);
    CHECK(strcmp(parley_cert_fingerprint(a), parley_cert_fingerprint(b)) != 0);
    parley_cert_free(a);
    parley_cert_free(b);
}

TEST(save_and_load_pem)
{
    char err[256] = "", cpath[128], kpath[128], c2path[128], k2path[128];
    snprintf(cpath, sizeof cpath, "%s/cert.pem", tmpdir);
    snprintf(kpath, sizeof kpath, "%s/key.pem", tmpdir);
    snprintf(k2path, sizeof k2path, "%s/other-key.pem", tmpdir);
    snprintf(c2path, sizeof c2path, "%s/other-cert.pem", tmpdir);
    parley_cert *c = parley_cert_generate(0, err, sizeof err);
    parley_cert *other = parley_cert_generate(0, err, sizeof err);
    REQUIRE(c && other);
    CHECK(parley_cert_save(c, cpath, kpath, err, sizeof err) == 0);
    CHECK(parley_cert_save(other, c2path, k2path, err, sizeof err) == 0);
    CHECK(access(kpath, R_OK) == 0);

    parley_cert *l = parley_cert_load(cpath, kpath, err, sizeof err);
    CHECKF(l != NULL, "%s", err);
    if (l) {
        CHECK(!strcmp(parley_cert_fingerprint(l), parley_cert_fingerprint(c)));
        CHECK(EVP_PKEY_eq(parley_cert_pkey(l), parley_cert_pkey(c)) == 1);
        parley_cert_free(l);
    }
    /* a key that is not the certificate's */
    err[0] = '\0';
    CHECK(parley_cert_load(cpath, k2path, err, sizeof err) == NULL);
    CHECKF(strstr(err, "does not match") != NULL, "%s", err);
    /* missing files, and a file that is not PEM */
    CHECK(parley_cert_load("/nonexistent/cert.pem", kpath, err, sizeof err) == NULL);
    CHECK(strstr(err, "/nonexistent/cert.pem") != NULL);
    CHECK(parley_cert_load(cpath, "/nonexistent/key.pem", err, sizeof err) == NULL);
    CHECK(parley_cert_load("/dev/null", kpath, err, sizeof err) == NULL);
    CHECK(parley_cert_load(kpath, kpath, err, sizeof err) == NULL);
    parley_cert_free(c);
    parley_cert_free(other);
    unlink(cpath);
    unlink(kpath);
    unlink(k2path);
    unlink(c2path);
}

TEST(fingerprint_parsing)
{
    uint8_t b[PARLEY_FINGERPRINT_BYTES];
    char good[PARLEY_FINGERPRINT_LEN];
    memcpy(good, "sha-256 ", 8);
    for (int i = 0; i < 32; i++)
        snprintf(good + 8 + 3 * i, 4, "%02X%s", i * 7 + 1, i < 31 ? ":" : "");
    CHECK(parley_fingerprint_parse(good, b));
    CHECK(b[0] == 1 && b[1] == 8 && b[31] == (uint8_t)(31 * 7 + 1));
    CHECK(parley_fingerprint_parse(good + 8, b)); /* without the hash name */
    char lower[PARLEY_FINGERPRINT_LEN];
    for (size_t i = 0; i < sizeof lower; i++)
        lower[i] = (char)(good[i] >= 'A' && good[i] <= 'F' ? good[i] + 32 : good[i]);
    CHECK(parley_fingerprint_parse(lower, b));
    char upper_name[PARLEY_FINGERPRINT_LEN];
    memcpy(upper_name, good, sizeof upper_name);
    memcpy(upper_name, "SHA-256", 7);
    CHECK(parley_fingerprint_parse(upper_name, b));

    char bad[PARLEY_FINGERPRINT_LEN + 8];
    CHECK(!parley_fingerprint_parse(NULL, b));
    CHECK(!parley_fingerprint_parse("", b));
    CHECK(!parley_fingerprint_parse("sha-1 AB:CD", b));
    memcpy(bad, good, sizeof good);
    bad[20] = 'G';
    CHECK(!parley_fingerprint_parse(bad, b));
    memcpy(bad, good, sizeof good);
    bad[10] = '-';
    CHECK(!parley_fingerprint_parse(bad, b));
    memcpy(bad, good, sizeof good);
    bad[PARLEY_FINGERPRINT_LEN - 4] = '\0'; /* one byte short */
    CHECK(!parley_fingerprint_parse(bad, b));
    snprintf(bad, sizeof bad, "%s:00", good); /* one byte too many */
    CHECK(!parley_fingerprint_parse(bad, b));
    memcpy(bad, "sha-512 ", 8);
    memcpy(bad + 8, good + 8, sizeof good - 8);
    CHECK(!parley_fingerprint_parse(bad, b));
}

int main(void)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(generated_fingerprint_is_sdp_form);
    RUN(generated_cert_parameters);
    RUN(save_and_load_pem);
    RUN(fingerprint_parsing);
    rmdir(tmpdir);
    return tap_done();
}
