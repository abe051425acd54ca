/* store/actor: who made a change, as the booking history records it (booking_events.actor and
 * actor_id; API.md's `by`). */
#ifndef LB_STORE_ACTOR_H
#define LB_STORE_ACTOR_H

struct store_actor {
    const char *kind; /* "key", "user", "prospect" or "system" */
    const char *id;   /* the key's id, the user's sub; NULL for prospect and system */
};

/* The kind and id as two SQL parameters; NULL by = the system (the expiry sweep, the operator). */
static inline void store_actor_params(const struct store_actor *by, const char **kind,
                                      const char **id)
{
    *kind = by && by->kind ? by->kind : "system";
    *id = by && by->kind ? by->id : NULL;
}

#endif
