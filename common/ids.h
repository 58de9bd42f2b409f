/* ids.h - the identifiers and timestamps Parley stamps on things.
 *
 * Every random identifier comes from OpenSSL's RAND_bytes, so ids and secrets
 * cannot be guessed from one another. The shapes:
 *
 *   room id             "abcd-efgh-ijkl"  three groups of four [a-z0-9]
 *   object id           24 lower-case hex digits (rooms' id, sessions, ...)
 *   request id          26 characters, Crockford base32, time-prefixed: ids
 *                       made later sort after ids made earlier (to the ms)
 *   participant secret  43 characters base64url (32 random bytes)
 *   API key             36 characters, a random UUID (version 4) in lower case
 *   API secret          64 lower-case hex digits (32 random bytes)
 *
 * Times are int64_t milliseconds since the Unix epoch, UTC, everywhere in
 * common/; JSON shows them as ISO 8601 UTC strings ("2024-05-01T09:30:00.000Z").
 *
 * Ownership: every function writes into a buffer the caller provides, sized by
 * the PARLEY_*_LEN constants below (which exclude the terminating NUL).
 * Functions returning int give 0 on success and -1 when the random source
 * failed (the buffer then holds an empty string). All functions are
 * thread-safe. */
#ifndef PARLEY_COMMON_IDS_H
#define PARLEY_COMMON_IDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PARLEY_ROOM_ID_LEN 14
#define PARLEY_HEX_ID_LEN 24
#define PARLEY_REQUEST_ID_LEN 26
#define PARLEY_SECRET_LEN 43
#define PARLEY_APIKEY_LEN 36
#define PARLEY_API_SECRET_LEN 64
#define PARLEY_ISO_TIME_LEN 24 /* "2024-05-01T09:30:00.000Z" */

/* A new room id, "abcd-efgh-ijkl". */
int parley_id_room(char out[PARLEY_ROOM_ID_LEN + 1]);
/* A new 24-hex object id. */
int parley_id_hex24(char out[PARLEY_HEX_ID_LEN + 1]);
/* A new request id: 10 characters of milliseconds then 16 random ones. */
int parley_id_request(char out[PARLEY_REQUEST_ID_LEN + 1]);
/* A new participant secret, for reconnection. */
int parley_id_secret(char out[PARLEY_SECRET_LEN + 1]);
/* A new public API key. */
int parley_id_apikey(char out[PARLEY_APIKEY_LEN + 1]);
/* A new API secret (the HMAC key that signs tokens). */
int parley_id_api_secret(char out[PARLEY_API_SECRET_LEN + 1]);

/* Shape checks; NULL is never valid. */
bool parley_room_id_valid(const char *text);
bool parley_hex24_valid(const char *text);

/* Now, in milliseconds since the epoch (wall clock, UTC). */
int64_t parley_now_ms(void);
/* ms since the epoch as "YYYY-MM-DDTHH:MM:SS.mmmZ"; returns out. A time that
 * gmtime cannot represent gives "1970-01-01T00:00:00.000Z". */
char *parley_iso_time(int64_t ms, char out[PARLEY_ISO_TIME_LEN + 1]);
/* Parse that form (also without milliseconds, and with a numeric offset
 * such as +02:00) back to ms; false when text is not one. */
bool parley_iso_time_parse(const char *text, int64_t *ms);

#endif
