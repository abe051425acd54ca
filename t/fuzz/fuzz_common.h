/* fuzz_common: what the libFuzzer targets share: a failure report that aborts (so libFuzzer saves
 * the input), and reference implementations written independently of src/ (UTF-8, RFC 8259
 * syntax) that serve as oracles for differential checks. */
#ifndef LB_FUZZ_COMMON_H
#define LB_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* Prints "INVARIANT FAILED: <message>" to stderr and aborts. */
void fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
#define FUZZ_ASSERT(cond, ...)                                                                     \
    do {                                                                                           \
        if (!(cond))                                                                               \
            fuzz_fail(__VA_ARGS__);                                                                \
    } while (0)

/* A malloc'd NUL-terminated copy of data[0..size) (embedded NULs kept: C code sees the prefix). */
char *fuzz_strndup(const uint8_t *data, size_t size);

/* Splits data into at most max lines (separated by '\n'), each unescaped ("\\n" LF, "\\r" CR,
 * "\\\\" backslash, "\\xHH" a byte; an escaped or raw NUL ends that string as C would) into
 * malloc'd strings in out. Returns the number of strings. */
size_t fuzz_split_params(const uint8_t *data, size_t size, char **out, size_t max);
void fuzz_free_params(char **v, size_t n);

/* Strict UTF-8 (RFC 3629) decoder: the code point at s[0..len) and its length in *n, or -1. */
int32_t ref_utf8_decode(const unsigned char *s, size_t len, size_t *n);
/* 1 when s[0..len) is strict UTF-8 (U+0000 allowed), else 0. */
int ref_utf8_valid(const char *s, size_t len);
/* Code points of valid UTF-8. */
size_t ref_utf8_count(const char *s, size_t len);
/* JavaScript's String.prototype.trim whitespace. */
int ref_js_space(int32_t cp);

/* 1 when s[0..len) is one RFC 8259 JSON text: strict UTF-8, no raw control characters in
 * strings, no unpaired surrogate escapes, containers nested at most max_depth deep (the top
 * level container is depth 1). Recursive descent, independent of src/jsonx.c. */
int ref_json_valid(const char *s, size_t len, int max_depth);

/* Checks that s is a NestJS error body for status: {"statusCode":status,"message":string or
 * array of strings,"error":reason} and nothing else. Aborts with a message otherwise. */
void fuzz_check_error_body(const char *s, size_t len, int status, const char *reason);

#endif
