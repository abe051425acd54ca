/* arena: per-request allocations, all freed at once when the request ends. */
#ifndef LB_ARENA_H
#define LB_ARENA_H

#include <stddef.h>

struct lb_arena_block;

struct lb_arena {
    struct lb_arena_block *head; /* newest block first; the first block is kept on reset */
    size_t total;                /* bytes handed out since the last reset */
    size_t limit;                /* refuse allocations past this many bytes (0 = no limit) */
};

void lb_arena_init(struct lb_arena *a, size_t limit);
/* Returns zeroed memory aligned for any type, or NULL when out of memory or over the limit. */
void *lb_arena_alloc(struct lb_arena *a, size_t size);
/* Copies len bytes and a terminating NUL. */
char *lb_arena_strndup(struct lb_arena *a, const char *s, size_t len);
char *lb_arena_strdup(struct lb_arena *a, const char *s);
/* Frees every block but the first (so an idle worker does not hold a large request's memory). */
void lb_arena_reset(struct lb_arena *a);
void lb_arena_free(struct lb_arena *a);

#endif
