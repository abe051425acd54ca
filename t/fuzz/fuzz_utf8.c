/* fuzz_utf8: lb_validate_utf8, lb_utf8_length_n and lb_trim against the reference decoder (a
 * table of RFC 3629's well-formed byte sequences), on exact-size heap copies. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size ? size : 1);
    if (size)
        memcpy(s, data, size);
    int valid = ref_utf8_valid(s, size);
    FUZZ_ASSERT((lb_validate_utf8(s, size) == 0) == valid, "lb_validate_utf8 says %s",
                valid ? "invalid" : "valid");
    size_t n = lb_utf8_length_n(s, size);
    FUZZ_ASSERT(n <= size, "length %zu > %zu bytes", n, size);
    if (valid)
        FUZZ_ASSERT(n == ref_utf8_count(s, size), "lb_utf8_length_n %zu, reference %zu", n,
                    ref_utf8_count(s, size));

    size_t start = (size_t)-1, tlen = (size_t)-1;
    lb_trim(s, size, &start, &tlen);
    FUZZ_ASSERT(start <= size && tlen <= size - start, "trim span %zu+%zu of %zu", start, tlen,
                size);
    if (valid) {
        const unsigned char *p = (const unsigned char *)s;
        size_t k;
        /* everything removed is whitespace ... */
        for (size_t i = 0; i < start; i += k) {
            int32_t cp = ref_utf8_decode(p + i, start - i, &k);
            FUZZ_ASSERT(cp >= 0 && ref_js_space(cp), "trim removed non-space at %zu", i);
        }
        for (size_t i = start + tlen; i < size; i += k) {
            int32_t cp = ref_utf8_decode(p + i, size - i, &k);
            FUZZ_ASSERT(cp >= 0 && ref_js_space(cp), "trim removed non-space at %zu", i);
        }
        /* ... and what is kept is valid and starts and ends with a non-space */
        FUZZ_ASSERT(ref_utf8_valid(s + start, tlen), "trimmed span is not valid UTF-8");
        if (tlen) {
            FUZZ_ASSERT(!ref_js_space(ref_utf8_decode(p + start, tlen, &k)), "leading space");
            size_t e = start + tlen - 1;
            while (e > start && (p[e] & 0xc0) == 0x80)
                e--;
            FUZZ_ASSERT(!ref_js_space(ref_utf8_decode(p + e, start + tlen - e, &k)),
                        "trailing space");
        }
    }
    free(s);

    char *z = fuzz_strndup(data, size);
    FUZZ_ASSERT(lb_utf8_length(z) == lb_utf8_length_n(z, strlen(z)), "lb_utf8_length");
    free(z);
    return 0;
}
