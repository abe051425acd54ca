/* fuzz_bearer: the Authorization header parser against a reference written from validate.h:
 * "Bearer" in any case, exactly one SP, then 1..200 chars of token68 (RFC 9110 / 7235), with
 * an output buffer of every size from 0 to 255 bytes (heap, exact size: ASan sees overflows). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz_common.h"
#include "validate.h"

static int token68(unsigned char c)
{
    return ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || (c >= '0' && c <= '9') ||
           (c && strchr("-._~+/", c));
}

/* The key's length, or -1. */
static long ref_bearer(const char *h)
{
    if (strncasecmp(h, "bearer ", 7) != 0 || h[6] != ' ')
        return -1;
    const char *k = h + 7;
    size_t n = 0;
    while (token68((unsigned char)k[n]))
        n++;
    if (n == 0)
        return -1;
    while (k[n] == '=')
        n++;
    if (k[n] != '\0' || n > LB_BEARER_KEY_MAX_LEN)
        return -1;
    return (long)n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t key_len = data[0];
    char *h = fuzz_strndup(data + 1, size - 1);
    char *key = malloc(key_len ? key_len : 1);
    long want = ref_bearer(h);
    int rc = lb_auth_parse_bearer(h, key_len ? key : NULL, key_len);
    if (want >= 0 && (size_t)want < key_len) {
        FUZZ_ASSERT(rc == 0, "lb_auth_parse_bearer refused \"%s\" (buffer %zu)", h, key_len);
        FUZZ_ASSERT(strlen(key) == (size_t)want && memcmp(key, h + 7, (size_t)want) == 0,
                    "lb_auth_parse_bearer extracted \"%s\" from \"%s\"", key, h);
    } else {
        FUZZ_ASSERT(rc != 0, "lb_auth_parse_bearer accepted \"%s\" (buffer %zu)", h, key_len);
    }
    free(key);
    free(h);
    return 0;
}
