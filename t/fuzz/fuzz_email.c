/* fuzz_email: lb_validate_email against a reference written from the rules in validate.h
 * (split on '@' and '.', then check each part), on arbitrary bytes. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "validate.h"

static int alpha(unsigned char c)
{
    return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

static int digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static int ref_email(const char *s)
{
    size_t len = strlen(s);
    if (len < 1 || len > LB_EMAIL_MAX_LEN)
        return 0;
    const char *at = strchr(s, '@');
    if (!at || strchr(at + 1, '@'))
        return 0;
    size_t llen = (size_t)(at - s);
    if (llen < 1 || llen > LB_EMAIL_LOCAL_MAX_LEN)
        return 0;
    /* local part: dot-separated non-empty runs of atext */
    size_t run = 0;
    for (size_t i = 0; i <= llen; i++) {
        if (i == llen || s[i] == '.') {
            if (run == 0)
                return 0;
            run = 0;
            continue;
        }
        unsigned char c = (unsigned char)s[i];
        if (!alpha(c) && !digit(c) && !strchr("!#$%&'*+/=?^_`{|}~-", c))
            return 0;
        run++;
    }
    /* domain: at least two LDH labels */
    const char *d = at + 1;
    size_t dlen = strlen(d), labels = 0, start = 0;
    for (size_t i = 0; i <= dlen; i++) {
        if (i < dlen && d[i] != '.')
            continue;
        size_t n = i - start;
        const char *l = d + start;
        if (n < 1 || n > LB_EMAIL_LABEL_MAX_LEN || l[0] == '-' || l[n - 1] == '-')
            return 0;
        for (size_t k = 0; k < n; k++)
            if (!alpha((unsigned char)l[k]) && !digit((unsigned char)l[k]) && l[k] != '-')
                return 0;
        labels++;
        if (i == dlen) { /* the TLD */
            int puny =
                n > 4 && (l[0] | 0x20) == 'x' && (l[1] | 0x20) == 'n' && l[2] == '-' && l[3] == '-';
            if (!puny) {
                if (n < 2)
                    return 0;
                for (size_t k = 0; k < n; k++)
                    if (!alpha((unsigned char)l[k]))
                        return 0;
            }
        }
        start = i + 1;
    }
    return labels >= 2;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_strndup(data, size);
    int ours = lb_validate_email(s) == 0;
    int ref = ref_email(s);
    FUZZ_ASSERT(ours == ref, "lb_validate_email(\"%s\") = %s, reference %s", s,
                ours ? "valid" : "invalid", ref ? "valid" : "invalid");
    free(s);
    return 0;
}
