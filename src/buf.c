/* buf: growable buffer; one owner, freed once. */
#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LB_BUF_MAX (256u * 1024 * 1024)

void lb_buf_init(struct lb_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->failed = 0;
}

void lb_buf_reset(struct lb_buf *b)
{
    b->len = 0;
    b->failed = 0;
    if (b->data)
        b->data[0] = '\0';
}

void lb_buf_free(struct lb_buf *b)
{
    free(b->data);
    lb_buf_init(b);
}

void lb_buf_trim(struct lb_buf *b, size_t keep)
{
    if (b->cap > keep) {
        lb_buf_free(b);
    } else {
        lb_buf_reset(b);
    }
}

static int grow(struct lb_buf *b, size_t extra)
{
    if (b->failed)
        return -1;
    if (extra >= LB_BUF_MAX - b->len) {
        b->failed = 1;
        return -1;
    }
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) {
        b->failed = 1;
        return -1;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

int lb_buf_append(struct lb_buf *b, const void *data, size_t len)
{
    if (grow(b, len) != 0)
        return -1;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

int lb_buf_puts(struct lb_buf *b, const char *s)
{
    return lb_buf_append(b, s, strlen(s));
}

int lb_buf_putc(struct lb_buf *b, char c)
{
    return lb_buf_append(b, &c, 1);
}

int lb_buf_printf(struct lb_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || grow(b, (size_t)n) != 0)
        return -1;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

int lb_buf_json_string(struct lb_buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    if (lb_buf_putc(b, '"') != 0)
        return -1;
    const char *run = s;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p >= 0x20 && *p != '"' && *p != '\\')
            continue;
        lb_buf_append(b, run, (size_t)((const char *)p - run));
        char esc[7] = {'\\', 0, 0, 0, 0, 0, 0};
        size_t n = 2;
        switch (*p) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[*p >> 4];
            esc[5] = hex[*p & 15];
            n = 6;
        }
        lb_buf_append(b, esc, n);
        run = (const char *)p + 1;
    }
    lb_buf_puts(b, run);
    return lb_buf_putc(b, '"');
}
