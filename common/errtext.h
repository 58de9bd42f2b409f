/* errtext.h - writing why something failed into a caller's buffer.
 *
 * Functions across Parley report a failure's reason through a
 * (char *err, size_t errlen) pair; these two fill it. Both accept a NULL or
 * empty buffer (the reason is then dropped) and always NUL-terminate. */
#ifndef PARLEY_ERRTEXT_H
#define PARLEY_ERRTEXT_H

#include <stddef.h>

/* printf into buf, truncating to len. */
void parley_errtext(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* "what: <OpenSSL's reason for its last error>", or just what when OpenSSL
 * has none; then empties OpenSSL's error queue of this thread. */
void parley_errtext_ssl(char *buf, size_t len, const char *what);

#endif
