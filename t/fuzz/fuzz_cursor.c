/* fuzz_cursor: the keyset cursor of GET /leads. Any text lb_cursor_decode accepts must be the
 * one canonical spelling (encode(decode(s)) == s); any (created_us, id) encodes to 34 URL-safe
 * characters that decode back to the same values when created_us is in range, and are refused
 * otherwise. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_strndup(data, size);
    int64_t created = 0;
    char id[LB_UUID_SIZE];
    if (lb_cursor_decode(s, &created, id) == 0) {
        char canon[LB_UUID_SIZE], again[LB_CURSOR_SIZE];
        FUZZ_ASSERT(lb_validate_uuid(id, canon) == 0 && strcmp(id, canon) == 0,
                    "decoded id \"%s\" is not a lowercase UUID", id);
        FUZZ_ASSERT(created >= LB_TIME_MIN_US && created <= LB_TIME_MAX_US,
                    "decoded created_us %lld out of range", (long long)created);
        FUZZ_ASSERT(lb_cursor_encode(created, id, again, sizeof again) == 0 &&
                        strcmp(again, s) == 0,
                    "cursor \"%s\" is not canonical (re-encodes as \"%s\")", s, again);
    }
    free(s);

    if (size >= 25) {
        static const char hex[] = "0123456789abcdef0123456789ABCDEF";
        uint64_t u = 0;
        for (int i = 0; i < 8; i++)
            u = u << 8 | data[i];
        int64_t t = (int64_t)u;
        char uuid[LB_UUID_SIZE];
        size_t o = 0;
        int upper = data[24] & 1;
        for (size_t i = 0; i < 16; i++) {
            if (i == 4 || i == 6 || i == 8 || i == 10)
                uuid[o++] = '-';
            uuid[o++] = hex[(data[8 + i] >> 4) + (upper ? 16 : 0)];
            uuid[o++] = hex[(data[8 + i] & 15) + (upper ? 16 : 0)];
        }
        uuid[o] = '\0';
        char *out = malloc(LB_CURSOR_SIZE); /* exactly the documented size */
        FUZZ_ASSERT(lb_cursor_encode(t, uuid, out, LB_CURSOR_SIZE) == 0, "encode failed");
        FUZZ_ASSERT(strlen(out) == LB_CURSOR_LEN, "cursor length %zu", strlen(out));
        for (const char *p = out; *p; p++)
            FUZZ_ASSERT((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                            (*p >= '0' && *p <= '9') || *p == '-' || *p == '_',
                        "cursor \"%s\" is not URL-safe", out);
        int64_t back = 0;
        char bid[LB_UUID_SIZE];
        int rc = lb_cursor_decode(out, &back, bid);
        if (t >= LB_TIME_MIN_US && t <= LB_TIME_MAX_US) {
            char lower[LB_UUID_SIZE];
            lb_validate_uuid(uuid, lower);
            FUZZ_ASSERT(rc == 0 && back == t && strcmp(bid, lower) == 0,
                        "cursor of (%lld, %s) does not decode back", (long long)t, uuid);
        } else {
            FUZZ_ASSERT(rc != 0, "cursor with created_us %lld out of range accepted", (long long)t);
        }
        FUZZ_ASSERT(lb_cursor_encode(t, uuid, out, LB_CURSOR_SIZE - 1) != 0,
                    "encode accepted a short buffer");
        free(out);
    }
    return 0;
}
