/* store/keys: API keys. A key is shown once, at creation; only its SHA-256 is stored. */
#ifndef LB_STORE_KEYS_H
#define LB_STORE_KEYS_H

#include "buf.h"
#include "db.h"
#include "digest.h"

/* Key text: the prefix and the unpadded base64url of 32 random bytes (43 characters). */
#define STORE_KEY_PREFIX "lbk_"
#define STORE_KEY_TEXT_LEN (sizeof STORE_KEY_PREFIX - 1 + 43)
/* Every change of a key (revocation by leadbookctl or by SQL, deletion, its tenant's deletion)
 * NOTIFYs this channel with the key id, in the changing transaction (sql/003's triggers);
 * "tenant:<id>" when a tenant is deleted or its user_id changes, "all" after a TRUNCATE. */
#define STORE_KEYS_CHANNEL "leadbook_keys"

extern const struct lb_db_stmt_set store_keys_statements;

/* The owner of a live key. */
struct store_key_ref {
    char tenant_id[37]; /* "" for a booking-page key */
    char key_id[37];
    int booking_page; /* 1: a booking-page key (belongs to no tenant) */
};

/* Creates a key for the tenant (label may be NULL = ""); appends {"id":…,"key":"lbk_…"}.
 * LB_NOT_FOUND: no such tenant; LB_INTERNAL: no randomness. */
enum lb_status store_key_create(struct lb_db *db, const char *tenant_id, const char *label,
                                struct lb_buf *out);
/* Creates a booking-page key (no tenant; API.md credential 3); appends {"id":…,"key":"lbk_…"}. */
enum lb_status store_key_create_booking_page(struct lb_db *db, const char *label,
                                             struct lb_buf *out);
/* Revokes a key (again is harmless), which notifies STORE_KEYS_CHANNEL; appends the key as in
 * store_key_list. LB_NOT_FOUND: no such key. */
enum lb_status store_key_revoke(struct lb_db *db, const char *key_id, struct lb_buf *out);
/* Appends the tenant's keys, newest first, without secrets:
 * [{id,tenantId,scope,label,createdAt,revokedAt}]. LB_NOT_FOUND: no such tenant. */
enum lb_status store_key_list(struct lb_db *db, const char *tenant_id, struct lb_buf *out);
/* Appends the booking-page keys, newest first, in the same shape. */
enum lb_status store_key_list_booking_page(struct lb_db *db, struct lb_buf *out);
/* Finds the live (not revoked) key with this SHA-256; LB_NOT_FOUND otherwise. */
enum lb_status store_key_lookup(struct lb_db *db, const unsigned char hash[LB_SHA256_LEN],
                                struct store_key_ref *ref);

#endif
