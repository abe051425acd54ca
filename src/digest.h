/* digest: SHA-256 (libcrypto), for API key hashes and migration checksums. */
#ifndef LB_DIGEST_H
#define LB_DIGEST_H

#include <stddef.h>

#define LB_SHA256_LEN 32

/* Writes the 32-byte digest of data[0..len) to out. */
void lb_sha256(const void *data, size_t len, unsigned char out[LB_SHA256_LEN]);
/* Writes in[0..len) as 2 * len lowercase hex digits and a NUL to out. */
void lb_hex(const unsigned char *in, size_t len, char *out);
/* Writes the digest as 64 lowercase hex digits and a NUL to out. */
void lb_sha256_hex(const void *data, size_t len, char out[2 * LB_SHA256_LEN + 1]);

#endif
