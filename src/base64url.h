/* base64url: RFC 4648 section 5, unpadded (JWT segments, page cursors, API key text). */
#ifndef LB_BASE64URL_H
#define LB_BASE64URL_H

#include <stddef.h>

/* Encodes in[0..len) into out (4 * ceil(len / 3) + 1 bytes at most, NUL-terminated). Returns
 * the text's length, or -1 when outlen is too small. */
long lb_base64url_encode(const void *in, size_t len, char *out, size_t outlen);

/* Decodes s[0..len) into out, which must have room for len * 3 / 4 bytes. Strict: refuses '=',
 * '+', '/', whitespace, a length no byte string encodes to (len % 4 == 1) and non-zero unused
 * bits in the last character, so that every byte string has exactly one accepted spelling.
 * Returns the decoded length or -1. */
long lb_base64url_decode(const char *s, size_t len, unsigned char *out);

#endif
