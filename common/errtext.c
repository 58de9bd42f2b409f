/* errtext.c - failure texts for (err, errlen) buffers; see errtext.h. */
#include <openssl/err.h>
#include <stdarg.h>
#include <stdio.h>

#include "errtext.h"

void parley_errtext(char *buf, size_t len, const char *fmt, ...)
{
    if (!buf || !len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

void parley_errtext_ssl(char *buf, size_t len, const char *what)
{
    unsigned long e = ERR_peek_last_error();
    char reason[160] = "";
    if (e)
        ERR_error_string_n(e, reason, sizeof reason);
    parley_errtext(buf, len, "%s%s%s", what, e ? ": " : "", reason);
    ERR_clear_error();
}
