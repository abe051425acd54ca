/* validate: pure parsers for untrusted scalar input (UUIDs, e-mail addresses, ISO 8601
 * timestamps, list cursors, the Authorization header, UTF-8, decimal limits). No I/O, no
 * allocation, no locale or time zone dependence (except lb_time_now_us, which reads the clock).
 * Every function takes arbitrary bytes (NUL-terminated unless a length is given) and never reads
 * past the terminator. Convention: 0 = valid / done, -1 = rejected; outputs are written only on
 * success unless stated otherwise. */
#ifndef LB_VALIDATE_H
#define LB_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

/* ---- UUID ------------------------------------------------------------------------------ */

#define LB_UUID_LEN 36  /* 8-4-4-4-12 */
#define LB_UUID_SIZE 37 /* with the NUL */

/* Accepts exactly the 8-4-4-4-12 hexadecimal form (either case, any version/variant); writes
 * it lowercased to out. Rejects braces, "urn:uuid:", missing dashes, other lengths. */
int lb_validate_uuid(const char *s, char out[LB_UUID_SIZE]);

/* The value of one hexadecimal digit (either case), or -1. */
int lb_hex_value(unsigned char c);

/* ---- E-mail ---------------------------------------------------------------------------- */

#define LB_EMAIL_MAX_LEN 254      /* whole address, bytes (RFC 5321 path limit minus <>) */
#define LB_EMAIL_LOCAL_MAX_LEN 64 /* local part */
#define LB_EMAIL_LABEL_MAX_LEN 63 /* one domain label */

/* A class-validator-like isEmail, ASCII only: local part of atext characters and dots (no
 * leading, trailing or doubled dot; no quoted strings), exactly one '@', a domain of at least
 * two LDH labels (1-63 chars, no leading/trailing '-'), the last (TLD) either alphabetic with
 * at least 2 letters or a punycode "xn--" label. No IP-literal domains, no spaces or controls. */
int lb_validate_email(const char *s);

/* ---- UTF-8 and text helpers -------------------------------------------------------------- */

/* Strict UTF-8 (RFC 3629): no overlong forms, no surrogates (U+D800-DFFF), nothing above
 * U+10FFFF, no truncated sequences. U+0000 is valid UTF-8 (callers that cannot store it must
 * reject it themselves). */
int lb_validate_utf8(const char *s, size_t len);

/* Number of code points in the NUL-terminated string s, which must be valid UTF-8 (it counts
 * the bytes that are not continuation bytes; it is memory-safe on any input). */
size_t lb_utf8_length(const char *s);
/* The same for len bytes. */
size_t lb_utf8_length_n(const char *s, size_t len);

/* Trims the whitespace that JavaScript's String.prototype.trim removes (the frontend's and the
 * original service's notion): ASCII TAB LF VT FF CR SPACE, and U+00A0, U+1680, U+2000-200A,
 * U+2028, U+2029, U+202F, U+205F, U+3000, U+FEFF. s holds len bytes of valid UTF-8; sets
 * *start and *out_len to the trimmed span. Never fails. */
void lb_trim(const char *s, size_t len, size_t *start, size_t *out_len);

/* ---- Decimal limits ---------------------------------------------------------------------- */

/* Parses a query-string integer: one or more ASCII decimal digits only (leading zeros allowed;
 * no sign, space, '+', hex or exponent), value within [min, max], no overflow. */
int lb_parse_limit(const char *s, long min, long max, long *out);

/* ---- Authorization header ---------------------------------------------------------------- */

/* Room for a sign-in token (auth_jwt.h refuses one over 8 KiB; longer credentials fail here). */
#define LB_BEARER_KEY_MAX_LEN 8192

/* Accepts exactly "Bearer <key>": the scheme compared case-insensitively (RFC 9110 11.1),
 * exactly one SP, key = 1..LB_BEARER_KEY_MAX_LEN chars of token68 ([A-Za-z0-9-._~+/]+ then
 * '='*). No leading or trailing whitespace. Writes the key to key_out (key_len bytes; it must
 * hold the key and a NUL, else -1). */
int lb_auth_parse_bearer(const char *header, char *key_out, size_t key_len);

/* ---- Idempotency-Key header ---------------------------------------------------------------- */

#define LB_IDEMPOTENCY_KEY_MAX_LEN 255

/* API.md: 1..255 printable ASCII characters (0x20..0x7e), not starting or ending with a space
 * (a proxy would trim it). 0 or -1. */
int lb_validate_idempotency_key(const char *s);

/* ---- Booking status ---------------------------------------------------------------------- */

enum lb_booking_status {
    LB_BOOKING_PENDING = 0,
    LB_BOOKING_CONFIRMED,
    LB_BOOKING_COMPLETED,
    LB_BOOKING_EXPIRED,
    LB_BOOKING_CANCELLED,
};
#define LB_BOOKING_STATUS_COUNT 5

/* Exact, case-sensitive match of one of the five names ("PENDING", ...). */
int lb_booking_status_parse(const char *s, enum lb_booking_status *out);
/* The name of a status; "" for a value out of range. */
const char *lb_booking_status_name(enum lb_booking_status st);

/* ---- Timestamps (microseconds since 1970-01-01T00:00:00Z, proleptic Gregorian) ----------- */

#define LB_TIME_US_PER_SEC INT64_C(1000000)
/* 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z: the range lb_time_parse_iso8601 gives */
#define LB_TIME_MIN_US (INT64_C(-62135596800) * LB_TIME_US_PER_SEC)
#define LB_TIME_MAX_US (INT64_C(253402300799) * LB_TIME_US_PER_SEC + INT64_C(999999))
#define LB_TIME_ISO_MAX_LEN 64 /* longer input is rejected before parsing */

/* Strict ISO 8601 / RFC 3339 date-time with a zone:
 *   YYYY-MM-DD ( 'T' | 't' | ' ' ) hh:mm [ :ss [ '.' 1-9 digits ] ] ( 'Z' | 'z' | ±hh:mm | ±hhmm )
 * Year 0001-9999, real calendar dates (leap years per Gregorian rules), hour 00-23, minute and
 * second 00-59 (a leap second 60 is rejected), offset hours 00-23 and minutes 00-59 ("-00:00"
 * means UTC). Fractions beyond microseconds are truncated. The result is UTC. Dates without a
 * time, times without a zone, week/ordinal dates, ',' as decimal sign: rejected. */
int lb_time_parse_iso8601(const char *s, int64_t *us_out);

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" (24 chars), floored to the millisecond (also before 1970). For a
 * year outside 0000-9999 it writes JavaScript's expanded form "+YYYYYY-..." / "-YYYYYY-..."
 * (27 chars), so every int64 value has an output. */
#define LB_TIME_FMT_MS_SIZE 28
int lb_time_format_ms(int64_t us, char out[LB_TIME_FMT_MS_SIZE]);

/* Text that PostgreSQL reads as the same timestamptz under any DateStyle/TimeZone, with full
 * microseconds: "2025-12-31T10:00:00.123456Z"; years before 0001 use PostgreSQL's " BC" suffix
 * ("0044-03-15 12:00:00.000000+00 BC" for 44 BC = astronomical year -43). */
#define LB_TIME_FMT_PG_SIZE 40
int lb_time_format_pg(int64_t us, char out[LB_TIME_FMT_PG_SIZE]);

/* The current time (CLOCK_REALTIME) in microseconds since the epoch. */
int64_t lb_time_now_us(void);

/* Days since 1970-01-01 of a proleptic Gregorian date (any year), and back. Exposed for tests
 * and for the store's date arithmetic. */
int64_t lb_days_from_civil(int64_t y, unsigned m, unsigned d);
void lb_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);

/* ---- Keyset cursor for GET /leads --------------------------------------------------------- */

/* Opaque, URL-safe: base64url without padding of 25 bytes: version (1), created_us as a
 * big-endian two's complement int64 (8), the id's 16 bytes. Not signed: it only positions a
 * page within the caller's own tenant, which the query enforces anyway. */
#define LB_CURSOR_VERSION 1
#define LB_CURSOR_LEN 34 /* characters */
#define LB_CURSOR_SIZE 35

/* id must be a valid UUID (any case); outlen must be at least LB_CURSOR_SIZE. */
int lb_cursor_encode(int64_t created_us, const char *id, char *out, size_t outlen);
/* Strict: exactly LB_CURSOR_LEN base64url chars, zero padding bits (canonical), version
 * LB_CURSOR_VERSION, created_us within [LB_TIME_MIN_US, LB_TIME_MAX_US]. Writes the id lowercase.
 */
int lb_cursor_decode(const char *s, int64_t *created_us, char id_out[LB_UUID_SIZE]);

#endif
