/* fuzz_query: lb_percent_decode (both '+' modes, on raw bytes that may hold NULs) and
 * lb_query_decode (with every bound on the number of pairs), each compared with a reference
 * decoder written from the contract in http.h. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "http.h"

static int hexdigit(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Reference: returns the decoded length, or -1 (malformed escape, NUL raw or encoded). */
static long ref_decode(const char *s, size_t len, int plus, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\0')
            return -1;
        if (c == '%') {
            if (len - i < 3 || hexdigit((unsigned char)s[i + 1]) < 0 ||
                hexdigit((unsigned char)s[i + 2]) < 0)
                return -1;
            c = (unsigned char)(hexdigit((unsigned char)s[i + 1]) * 16 +
                                hexdigit((unsigned char)s[i + 2]));
            if (c == '\0')
                return -1;
            i += 2;
        } else if (c == '+' && plus) {
            c = ' ';
        }
        out[o++] = (char)c;
    }
    return (long)o;
}

static void check_decode(struct lb_arena *arena, const char *s, size_t len, int plus)
{
    char *ref = malloc(len + 1);
    long rlen = ref_decode(s, len, plus, ref);
    char *got = lb_percent_decode(arena, s, len, plus);
    if (rlen < 0) {
        FUZZ_ASSERT(got == NULL, "lb_percent_decode accepted a malformed input (%zu bytes)", len);
    } else {
        FUZZ_ASSERT(got != NULL, "lb_percent_decode refused a valid input (%zu bytes)", len);
        FUZZ_ASSERT(strlen(got) == (size_t)rlen && memcmp(got, ref, (size_t)rlen) == 0,
                    "lb_percent_decode: wrong output for %zu bytes", len);
    }
    free(ref);
}

/* Reference query decoder: the pairs (decoded into one buffer) or -1; compared with kv. */
static void check_query(struct lb_arena *arena, const char *qs, size_t max)
{
    struct lb_kv kv[40];
    int n = lb_query_decode(arena, qs, kv, max);
    size_t qlen = strlen(qs);
    char *buf = malloc(2 * qlen + 2), *o = buf;
    const char *rk[40], *rv[40];
    long rkl[40], rvl[40];
    long count = 0;
    const char *p = qs;
    for (;;) {
        const char *amp = strchr(p, '&');
        size_t seg = amp ? (size_t)(amp - p) : strlen(p);
        if (seg > 0) {
            if ((size_t)count >= max) {
                count = -1;
                break;
            }
            const char *eq = memchr(p, '=', seg);
            size_t klen = eq ? (size_t)(eq - p) : seg;
            rk[count] = o;
            rkl[count] = ref_decode(p, klen, 1, o);
            if (rkl[count] < 0) {
                count = -1;
                break;
            }
            o += rkl[count];
            rv[count] = o;
            rvl[count] = eq ? ref_decode(eq + 1, seg - klen - 1, 1, o) : 0;
            if (rvl[count] < 0) {
                count = -1;
                break;
            }
            o += rvl[count];
            count++;
        }
        if (!amp)
            break;
        p = amp + 1;
    }
    FUZZ_ASSERT(n == count, "lb_query_decode returned %d, reference %ld (max %zu)", n, count, max);
    for (long i = 0; i < count; i++) {
        FUZZ_ASSERT(strlen(kv[i].key) == (size_t)rkl[i] &&
                        memcmp(kv[i].key, rk[i], (size_t)rkl[i]) == 0,
                    "lb_query_decode: key %ld differs", i);
        FUZZ_ASSERT(strlen(kv[i].value) == (size_t)rvl[i] &&
                        memcmp(kv[i].value, rv[i], (size_t)rvl[i]) == 0,
                    "lb_query_decode: value %ld differs", i);
    }
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t max = data[0] % 40; /* 0 .. 39 pairs; the server uses LB_MAX_QUERY_PARAMS */
    data++, size--;
    struct lb_arena arena;
    lb_arena_init(&arena, 0);
    /* an exact-size heap copy: ASan sees any read past len */
    char *raw = malloc(size ? size : 1);
    if (size)
        memcpy(raw, data, size);
    check_decode(&arena, raw, size, 0);
    check_decode(&arena, raw, size, 1);
    free(raw);
    char *qs = fuzz_strndup(data, size);
    check_query(&arena, qs, max);
    free(qs);
    lb_arena_free(&arena);
    return 0;
}
