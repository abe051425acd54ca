/* digest: SHA-256 from OpenSSL's libcrypto (EVP), for API key hashes and migration checksums. */
#include "digest.h"

#include <openssl/evp.h>
#include <string.h>

void lb_sha256(const void *data, size_t len, unsigned char out[LB_SHA256_LEN])
{
    unsigned int n = 0;
    /* EVP_Digest fails only when out of memory; a zero digest then never matches a stored
     * hash (every stored hash is of a random 32-byte key). */
    if (EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) != 1 || n != LB_SHA256_LEN)
        memset(out, 0, LB_SHA256_LEN);
}

void lb_sha256_hex(const void *data, size_t len, char out[2 * LB_SHA256_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char d[LB_SHA256_LEN];
    lb_sha256(data, len, d);
    for (size_t i = 0; i < LB_SHA256_LEN; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[2 * LB_SHA256_LEN] = '\0';
}
