/* buf: a growable byte buffer with a hard cap; every append is bounds-checked. */
#ifndef LB_BUF_H
#define LB_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct lb_buf {
    char *data; /* always NUL-terminated when len > 0 or after lb_buf_init */
    size_t len;
    size_t cap;
    int failed; /* set once an append could not allocate; later appends are ignored */
};

void lb_buf_init(struct lb_buf *b);
void lb_buf_reset(struct lb_buf *b); /* len = 0, keeps the memory */
void lb_buf_free(struct lb_buf *b);
/* Shrinks the allocation back to at most keep bytes (used between requests). */
void lb_buf_trim(struct lb_buf *b, size_t keep);
int lb_buf_append(struct lb_buf *b, const void *data, size_t len);
int lb_buf_puts(struct lb_buf *b, const char *s);
int lb_buf_putc(struct lb_buf *b, char c);
int lb_buf_printf(struct lb_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string literal (quotes included), escaping as RFC 8259 requires. */
int lb_buf_json_string(struct lb_buf *b, const char *s);

#endif
