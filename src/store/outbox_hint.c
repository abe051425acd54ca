/* store/outbox_hint: see the header. */
#include "store/outbox_hint.h"

#include <stdint.h>
#include <string.h>

enum { HINT_SLOTS = 512, HINT_KEY = 37 };

static struct {
    char key[HINT_KEY];
    unsigned char hooked;
} hints[HINT_SLOTS];

static unsigned slot(const char *key)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h % HINT_SLOTS;
}

int store_outbox_hint(const char *key)
{
    if (!key || strlen(key) >= HINT_KEY)
        return 0;
    unsigned i = slot(key);
    return strcmp(hints[i].key, key) == 0 && hints[i].hooked;
}

void store_outbox_hint_set(const char *key, int hooked)
{
    if (!key || strlen(key) >= HINT_KEY)
        return;
    unsigned i = slot(key);
    memcpy(hints[i].key, key, strlen(key) + 1);
    hints[i].hooked = hooked != 0;
}
