/* fuzz_scalars: the small parsers of route, query and header values: lb_validate_uuid (route
 * :ids, agentId, tenantId), lb_parse_limit (?limit=), lb_booking_status_parse and
 * lb_validate_idempotency_key (the Idempotency-Key header), each against a reference from
 * validate.h, on arbitrary bytes. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "validate.h"

static int hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_strndup(data, size);
    size_t len = strlen(s);

    /* Idempotency-Key: 1..255 bytes of 0x20..0x7e, no space at either end */
    int key_ok = len >= 1 && len <= LB_IDEMPOTENCY_KEY_MAX_LEN && s[0] != ' ' && s[len - 1] != ' ';
    for (size_t i = 0; key_ok && i < len; i++)
        key_ok = (unsigned char)s[i] >= 0x20 && (unsigned char)s[i] <= 0x7e;
    FUZZ_ASSERT((lb_validate_idempotency_key(s) == 0) == key_ok,
                "lb_validate_idempotency_key(\"%s\") disagrees with the reference", s);

    /* UUID: 8-4-4-4-12 hex digits, lowercased on output */
    int want = len == LB_UUID_LEN;
    for (size_t i = 0; want && i < len; i++)
        want = (i == 8 || i == 13 || i == 18 || i == 23) ? s[i] == '-' : hex((unsigned char)s[i]);
    char out[LB_UUID_SIZE] = "untouched";
    int rc = lb_validate_uuid(s, out);
    FUZZ_ASSERT((rc == 0) == want, "lb_validate_uuid(\"%s\") = %d", s, rc);
    if (want)
        for (size_t i = 0; i <= LB_UUID_LEN; i++)
            FUZZ_ASSERT(out[i] == ((s[i] >= 'A' && s[i] <= 'F') ? s[i] + 32 : s[i]),
                        "lowercased UUID differs at %zu", i);
    else
        FUZZ_ASSERT(strcmp(out, "untouched") == 0, "lb_validate_uuid wrote on failure");

    /* limit: digits only, within [min, max] */
    long min = size > 0 ? data[0] % 3 : 1, max = size > 1 ? (long)data[1] * 8 : 1000;
    __int128 v = len ? 0 : -1;
    for (size_t i = 0; i < len && v >= 0; i++) {
        if (s[i] < '0' || s[i] > '9')
            v = -1;
        else if ((v = v * 10 + (s[i] - '0')) > (__int128)1 << 70)
            v = (__int128)1 << 70; /* saturate: far beyond max */
    }
    long got = -7;
    rc = lb_parse_limit(s, min, max, &got);
    int ok = v >= min && v <= max;
    FUZZ_ASSERT((rc == 0) == ok, "lb_parse_limit(\"%s\", %ld, %ld) = %d", s, min, max, rc);
    FUZZ_ASSERT(ok ? got == (long)v : got == -7, "lb_parse_limit output %ld", got);

    /* booking status: exact, case-sensitive */
    static const char *const names[] = {"PENDING", "CONFIRMED", "COMPLETED", "EXPIRED",
                                        "CANCELLED"};
    int idx = -1;
    for (int i = 0; i < 5; i++)
        if (strcmp(s, names[i]) == 0)
            idx = i;
    enum lb_booking_status st = LB_BOOKING_STATUS_COUNT;
    rc = lb_booking_status_parse(s, &st);
    FUZZ_ASSERT((rc == 0) == (idx >= 0) && (idx < 0 || (int)st == idx),
                "lb_booking_status_parse(\"%s\")", s);
    if (idx >= 0)
        FUZZ_ASSERT(strcmp(lb_booking_status_name(st), s) == 0, "status name round trip");
    FUZZ_ASSERT(lb_booking_status_name((enum lb_booking_status)(size > 2 ? data[2] : 9))[0] ==
                        '\0' ||
                    (size > 2 && data[2] < LB_BOOKING_STATUS_COUNT),
                "lb_booking_status_name out of range");
    free(s);
    return 0;
}
