/* cert.h - the SFU's DTLS identity: one certificate and its private key.
 *
 * WebRTC peers do not trust certificates through a CA: each side announces
 * the SHA-256 fingerprint of its certificate in SDP (a=fingerprint) and the
 * DTLS handshake checks the certificate the peer presents against it. So the
 * SFU makes its own self-signed certificate at start (ECDSA P-256, valid
 * PARLEY_CERT_DEFAULT_DAYS, random serial), or loads one from PEM files.
 *
 * Fingerprints are written in SDP form, "sha-256 AB:CD:...:EF" (upper-case
 * hex, PARLEY_FINGERPRINT_LEN - 1 characters); only sha-256 is supported.
 *
 * Ownership: a parley_cert owns its X509 and EVP_PKEY; parley_cert_free
 * releases both (NULL is fine). The pointers from parley_cert_x509 and
 * parley_cert_pkey are borrowed and live as long as the parley_cert. A
 * parley_cert is read-only after creation and may be shared between threads
 * and DTLS endpoints; it must outlive every endpoint using it. */
#ifndef PARLEY_SFU_CERT_H
#define PARLEY_SFU_CERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#define PARLEY_CERT_DEFAULT_DAYS 30
#define PARLEY_FINGERPRINT_BYTES 32                              /* SHA-256 */
#define PARLEY_FINGERPRINT_LEN (8 + PARLEY_FINGERPRINT_BYTES * 3) /* "sha-256 " + hex + NUL */

typedef struct parley_cert parley_cert;

/* A new self-signed ECDSA P-256 certificate valid for days (0: the default)
 * from an hour ago. NULL with err on failure. */
parley_cert *parley_cert_generate(unsigned days, char *err, size_t errlen);
/* Load a certificate and its private key from PEM files; the key must match
 * the certificate. NULL with err on failure. */
parley_cert *parley_cert_load(const char *cert_path, const char *key_path, char *err,
                              size_t errlen);
/* Write the certificate and its key (unencrypted, mode 0600) as PEM files.
 * Returns 0, or -1 with err. */
int parley_cert_save(const parley_cert *c, const char *cert_path, const char *key_path,
                     char *err, size_t errlen);
void parley_cert_free(parley_cert *c);

/* The fingerprint in SDP form ("sha-256 AB:..."), owned by c. */
const char *parley_cert_fingerprint(const parley_cert *c);
X509 *parley_cert_x509(const parley_cert *c);
EVP_PKEY *parley_cert_pkey(const parley_cert *c);

/* The SHA-256 digest of x in SDP form into out. Returns 0 or -1. */
int parley_fingerprint_of(X509 *x, char out[PARLEY_FINGERPRINT_LEN]);
/* Parse an SDP fingerprint ("sha-256 AB:CD:..." or just the hex pairs, any
 * case) into its 32 bytes. False when it is not a well-formed sha-256
 * fingerprint. */
bool parley_fingerprint_parse(const char *s, uint8_t out[PARLEY_FINGERPRINT_BYTES]);

#endif
