/* arena: bump allocation in blocks; a request's strings live until the request ends. */
#include "arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_BLOCK_SIZE 8192
#define ARENA_ALIGN 16

struct lb_arena_block {
    struct lb_arena_block *next;
    size_t size, used;
    _Alignas(ARENA_ALIGN) unsigned char data[];
};

void lb_arena_init(struct lb_arena *a, size_t limit)
{
    a->head = NULL;
    a->total = 0;
    a->limit = limit;
}

void *lb_arena_alloc(struct lb_arena *a, size_t size)
{
    size_t need = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (need < size || (a->limit && (need > a->limit || a->total > a->limit - need)))
        return NULL;
    struct lb_arena_block *b = a->head;
    if (!b || b->size - b->used < need) {
        size_t bsize = need > ARENA_BLOCK_SIZE ? need : ARENA_BLOCK_SIZE;
        b = malloc(sizeof *b + bsize);
        if (!b)
            return NULL;
        b->size = bsize;
        b->used = 0;
        b->next = a->head;
        a->head = b;
    }
    void *p = b->data + b->used;
    b->used += need;
    a->total += need;
    memset(p, 0, size);
    return p;
}

char *lb_arena_strndup(struct lb_arena *a, const char *s, size_t len)
{
    if (len == SIZE_MAX)
        return NULL;
    char *p = lb_arena_alloc(a, len + 1);
    if (!p)
        return NULL;
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *lb_arena_strdup(struct lb_arena *a, const char *s)
{
    return lb_arena_strndup(a, s, strlen(s));
}

void lb_arena_reset(struct lb_arena *a)
{
    struct lb_arena_block *b = a->head;
    if (!b)
        return;
    /* keep the oldest block if it is the standard size; free the rest */
    struct lb_arena_block *keep = NULL;
    while (b) {
        struct lb_arena_block *next = b->next;
        if (!next && b->size == ARENA_BLOCK_SIZE) {
            keep = b;
        } else {
            free(b);
        }
        b = next;
    }
    if (keep) {
        keep->used = 0;
        keep->next = NULL;
    }
    a->head = keep;
    a->total = 0;
}

void lb_arena_free(struct lb_arena *a)
{
    struct lb_arena_block *b = a->head;
    while (b) {
        struct lb_arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
    a->total = 0;
}
