/* validate_cursor: the opaque keyset cursor of GET /leads (base64url, no padding, of
 * version | created_us (int64, big-endian) | id (16 bytes)). Decoding is strict so that every
 * cursor has exactly one spelling and garbage is a 400, never a query. */
#include "validate.h"

#include <string.h>

#include "base64url.h"

#define CURSOR_RAW_LEN 25 /* 1 + 8 + 16 */

int lb_cursor_encode(int64_t created_us, const char *id, char *out, size_t outlen)
{
    char uuid[LB_UUID_SIZE];
    unsigned char raw[CURSOR_RAW_LEN];
    if (!out || outlen < LB_CURSOR_SIZE || !id || lb_validate_uuid(id, uuid) != 0)
        return -1;
    raw[0] = LB_CURSOR_VERSION;
    uint64_t u = (uint64_t)created_us;
    for (int i = 0; i < 8; i++)
        raw[1 + i] = (unsigned char)(u >> (56 - 8 * i));
    size_t k = 9;
    for (size_t i = 0; i < LB_UUID_LEN; i += 2) {
        if (uuid[i] == '-')
            i++;
        raw[k++] = (unsigned char)(lb_hex_value((unsigned char)uuid[i]) << 4 |
                                   lb_hex_value((unsigned char)uuid[i + 1]));
    }
    return lb_base64url_encode(raw, CURSOR_RAW_LEN, out, outlen) == LB_CURSOR_LEN ? 0 : -1;
}

int lb_cursor_decode(const char *s, int64_t *created_us, char id_out[LB_UUID_SIZE])
{
    unsigned char raw[LB_CURSOR_LEN * 3 / 4 + 1];
    if (!s || strnlen(s, LB_CURSOR_LEN + 1) != LB_CURSOR_LEN ||
        lb_base64url_decode(s, LB_CURSOR_LEN, raw) != CURSOR_RAW_LEN)
        return -1;
    if (raw[0] != LB_CURSOR_VERSION)
        return -1;
    uint64_t u = 0;
    for (int i = 0; i < 8; i++)
        u = u << 8 | raw[1 + i];
    int64_t t = (int64_t)u; /* implementation-defined for u > INT64_MAX; two's complement */
    if (t < LB_TIME_MIN_US || t > LB_TIME_MAX_US)
        return -1;
    static const char hex[] = "0123456789abcdef";
    char id[LB_UUID_SIZE];
    size_t o = 0;
    for (size_t i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            id[o++] = '-';
        id[o++] = hex[raw[9 + i] >> 4];
        id[o++] = hex[raw[9 + i] & 15];
    }
    id[o] = '\0';
    *created_us = t;
    memcpy(id_out, id, LB_UUID_SIZE);
    return 0;
}
