/* store_stub: see store_stub.h. Linked into the whole-request target instead of src/db.c and
 * src/store/ (every file), so no libpq is involved and every answer is deterministic. */
#include "store_stub.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "db.h"
#include "db_read.h"
#include "fuzz_common.h"
#include "digest.h"
#include "jsonx.h"
#include "net_check.h"
#include "store/agents.h"
#include "store/booking_changes.h"
#include "store/bookings.h"
#include "store/health.h"
#include "store/keys.h"
#include "store/leads.h"
#include "store/metrics.h"
#include "store/tenants.h"
#include "store/webhooks.h"
#include "store/util.h"
#include "validate.h"

struct lb_db {
    unsigned long generation;
};

static struct stub_control ctl;
static struct stub_observed seen;
static int revoked, notify_pending, credential;
static unsigned long generation = 1;

/* ---- control -------------------------------------------------------------------------------- */

void stub_begin_input(void)
{
    stub_parse_control("", &ctl);
    memset(&seen, 0, sizeof seen);
    revoked = 0;
    notify_pending = 0;
    generation = 1;
}

void stub_begin_request(const struct stub_control *c, int credential_ok)
{
    ctl = *c;
    memset(&seen, 0, sizeof seen);
    if (ctl.revoke && !revoked)
        revoked = notify_pending = 1;
    if (ctl.reconnect)
        generation++;
    credential = credential_ok && !revoked;
    seen.credential = credential;
}

const struct stub_observed *stub_observed(void)
{
    return &seen;
}

void stub_parse_control(const char *line, struct stub_control *c)
{
    static const char *const statuses[] = {"PENDING", "CONFIRMED", "COMPLETED", "EXPIRED",
                                           "CANCELLED"};
    memset(c, 0, sizeof *c);
    c->answer = LB_OK;
    c->booking_status = statuses[0];
    c->next_created_us = INT64_C(1735689600000000);
    const char *p = line;
    if (*p == '@')
        p++;
    for (; *p && *p != ':'; p++) {
        switch (*p) {
        case 'o':
            c->answer = LB_OK;
            break;
        case 'n':
            c->answer = LB_NOT_FOUND;
            break;
        case 'c':
            c->answer = LB_CONFLICT;
            break;
        case 'u':
            c->answer = LB_UNAVAILABLE;
            break;
        case 'i':
            c->answer = LB_INVALID;
            break;
        case 'e':
            c->answer = LB_INTERNAL;
            break;
        case 'b':
            c->answer = LB_BUSY;
            break;
        case 'w':
            c->answer = LB_READ_ONLY;
            break;
        case 'm':
            c->more = 1;
            break;
        case 'r':
            c->revoke = 1;
            break;
        case 'g':
            c->reconnect = 1;
            break;
        case 't':
            c->text_as_time = 1;
            break;
        case '<':
            c->next_created_us = LB_TIME_MIN_US;
            break;
        case '>':
            c->next_created_us = LB_TIME_MAX_US;
            break;
        case 'P':
        case 'C':
        case 'M':
        case 'X':
        case 'K':
            c->booking_status = statuses[strchr("PCMXK", *p) - "PCMXK"];
            break;
        default:
            break;
        }
    }
    /* the text is made valid UTF-8 without NULs, as PostgreSQL would return it */
    size_t o = 0;
    if (*p == ':') {
        const unsigned char *t = (const unsigned char *)p + 1;
        size_t len = strlen((const char *)t);
        for (size_t i = 0; i < len && o + 4 < sizeof c->text;) {
            size_t n = 1;
            if (ref_utf8_decode(t + i, len - i, &n) < 0) {
                c->text[o++] = '?';
                n = 1;
            } else {
                memcpy(c->text + o, t + i, n);
                o += n;
            }
            i += n;
        }
    }
    c->text[o] = '\0';
}

/* ---- checks of what the handlers pass ------------------------------------------------------- */

static void check_uuid(const char *what, const char *id)
{
    char canon[LB_UUID_SIZE];
    FUZZ_ASSERT(id && lb_validate_uuid(id, canon) == 0 && strcmp(canon, id) == 0,
                "store got %s \"%s\": not a lowercase UUID", what, id ? id : "(null)");
}

static void check_text(const char *what, const char *s, size_t min, size_t max)
{
    FUZZ_ASSERT(s != NULL, "store got no %s", what);
    size_t len = strlen(s), chars = ref_utf8_count(s, len);
    FUZZ_ASSERT(ref_utf8_valid(s, len), "store got %s that is not valid UTF-8", what);
    FUZZ_ASSERT(chars >= min && (max == 0 || chars <= max), "store got %s of %zu characters", what,
                chars);
}

/* A call on the caller's tenant: only ever with the live credential's tenant. */
static enum lb_status tenant_call(const char *fn, const char *tenant_id)
{
    FUZZ_ASSERT(credential, "%s called for a request without a valid credential", fn);
    FUZZ_ASSERT(tenant_id && strcmp(tenant_id, STUB_TENANT) == 0, "%s called for tenant \"%s\"", fn,
                tenant_id ? tenant_id : "(null)");
    seen.tenant_calls++;
    seen.data_calls++;
    seen.data_status = ctl.answer;
    if (ctl.answer == LB_UNAVAILABLE)
        seen.unavailable = 1;
    return ctl.answer;
}

__attribute__((noreturn)) static void unexpected(const char *fn)
{
    fuzz_fail("the API called %s, which no handler should use", fn);
}

/* ---- canned answers ------------------------------------------------------------------------- */

#define TS "\"2025-01-01T10:00:00.000Z\""
#define AGENT_ID "a9b8c7d6-e5f4-4a3b-8c2d-1e0f9a8b7c6d"
#define LEAD_ID "0f1e2d3c-4b5a-4697-8877-665544332211"
#define BOOKING_ID "11223344-5566-4778-8899-aabbccddeeff"
#define TOKEN "99887766-5544-4332-a110-ffeeddccbbaa"
#define LINK "12345678-9abc-4def-8123-456789abcdef"

static void put_text(struct lb_buf *out)
{
    lb_buf_json_string(out, ctl.text[0] ? ctl.text : "Ada");
}

static void put_agent(struct lb_buf *out)
{
    lb_buf_puts(out, "{\"id\":\"" AGENT_ID "\",\"tenantId\":\"" STUB_TENANT "\",\"name\":");
    put_text(out);
    lb_buf_puts(out, ",\"knowledge\":");
    put_text(out);
    lb_buf_puts(out, ",\"publicLink\":\"" LINK "\",\"linkExpiryHours\":24,\"createdAt\":" TS
                     ",\"updatedAt\":" TS "}");
}

/* The booking's members, without the braces. */
static void put_booking_members(struct lb_buf *out, int with_tenant)
{
    lb_buf_puts(out, "\"id\":\"" BOOKING_ID "\",\"leadId\":\"" LEAD_ID "\",\"agentId\":\"" AGENT_ID
                     "\",");
    if (with_tenant)
        lb_buf_puts(out, "\"tenantId\":\"" STUB_TENANT "\",");
    lb_buf_puts(out, "\"scheduledAt\":");
    if (ctl.text_as_time)
        put_text(out);
    else
        lb_buf_puts(out, TS);
    lb_buf_printf(out,
                  ",\"status\":\"%s\",\"expiresAt\":" TS ",\"meetingToken\":\"" TOKEN
                  "\",\"createdAt\":" TS ",\"updatedAt\":" TS,
                  ctl.booking_status);
}

static void put_booking(struct lb_buf *out, int with_tenant)
{
    lb_buf_putc(out, '{');
    put_booking_members(out, with_tenant);
    lb_buf_putc(out, '}');
}

static void put_lead(struct lb_buf *out, int full)
{
    lb_buf_puts(out, "{\"id\":\"" LEAD_ID "\",\"agentId\":\"" AGENT_ID
                     "\",\"tenantId\":\"" STUB_TENANT "\",\"name\":");
    put_text(out);
    lb_buf_puts(out, ",\"email\":");
    put_text(out);
    lb_buf_puts(out, ",\"bookedAt\":" TS ",\"createdAt\":" TS ",\"updatedAt\":" TS);
    if (full) {
        lb_buf_puts(out, ",\"bookings\":[");
        put_booking(out, 1);
        lb_buf_puts(out, "],\"agent\":{\"id\":\"" AGENT_ID "\",\"name\":");
        put_text(out);
        lb_buf_puts(out, ",\"publicLink\":\"" LINK "\"}");
    }
    lb_buf_putc(out, '}');
}

/* ---- db.h ----------------------------------------------------------------------------------- */

const struct lb_db_stmt_set *const lb_db_catalog[] = {NULL};
const struct lb_db_stmt_set store_tenants_statements = {NULL, 0};
const struct lb_db_stmt_set store_keys_statements = {NULL, 0};
const struct lb_db_stmt_set store_agents_statements = {NULL, 0};
const struct lb_db_stmt_set store_leads_statements = {NULL, 0};
const struct lb_db_stmt_set store_bookings_statements = {NULL, 0};

struct lb_db *lb_db_new(const struct lb_db_options *opt)
{
    (void)opt;
    return calloc(1, sizeof(struct lb_db));
}

void lb_db_free(struct lb_db *db)
{
    free(db);
}

void lb_db_set_statements(struct lb_db *db, const struct lb_db_stmt_set *const *catalog)
{
    (void)db, (void)catalog;
}

/* the request's write deadline (app.c sets it per request): nothing is sent here */
void lb_db_set_deadline(struct lb_db *db, long long realtime_ms)
{
    (void)db, (void)realtime_ms;
}

/* db_read.h: the fuzzed configuration names no replica (app->read stays NULL) */
struct lb_db_read *lb_db_read_new(const struct lb_db_read_options *opt)
{
    (void)opt;
    return NULL;
}

void lb_db_read_free(struct lb_db_read *r)
{
    (void)r;
}

struct lb_db *lb_db_read_pick(struct lb_db_read *r, struct lb_db *primary)
{
    (void)r;
    return primary;
}

int lb_db_read_failed(struct lb_db_read *r, const struct lb_db *used, enum lb_status st)
{
    (void)r, (void)used, (void)st;
    return 0;
}

long long lb_db_read_lag_ms(const struct lb_db_read *r)
{
    (void)r;
    return -1;
}

enum lb_status lb_db_ready(struct lb_db *db)
{
    (void)db;
    return LB_OK;
}

enum lb_status lb_db_ping(struct lb_db *db)
{
    (void)db;
    if (ctl.answer == LB_UNAVAILABLE) {
        seen.unavailable = 1;
        return LB_UNAVAILABLE;
    }
    return LB_OK;
}

unsigned long lb_db_generation(const struct lb_db *db)
{
    (void)db;
    return generation;
}

int lb_db_sync_notifications(struct lb_db *db,
                             void (*cb)(void *ctx, const char *channel, const char *payload),
                             void *ctx)
{
    return lb_db_poll_notifications(db, cb, ctx);
}

int lb_db_poll_notifications(struct lb_db *db,
                             void (*cb)(void *ctx, const char *channel, const char *payload),
                             void *ctx)
{
    (void)db;
    if (ctl.answer == LB_UNAVAILABLE)
        return -1; /* the connection is broken: the cache must not be trusted */
    if (notify_pending) {
        notify_pending = 0;
        cb(ctx, "unrelated_channel", STUB_KEY_ID);
        cb(ctx, STORE_KEYS_CHANNEL, STUB_KEY_ID);
        return 2;
    }
    return 0;
}

enum lb_status lb_db_exec(struct lb_db *db, const struct lb_db_stmt *stmt, int nparams,
                          const char *const *values, PGresult **res)
{
    (void)db, (void)stmt, (void)nparams, (void)values, (void)res;
    unexpected("lb_db_exec");
}

enum lb_status lb_db_exec_once(struct lb_db *db, const char *sql, int nparams,
                               const char *const *values, PGresult **res)
{
    (void)db, (void)sql, (void)nparams, (void)values, (void)res;
    unexpected("lb_db_exec_once");
}

enum lb_status lb_db_exec_script(struct lb_db *db, const char *sql)
{
    (void)db, (void)sql;
    unexpected("lb_db_exec_script");
}

const char *lb_db_last_error(const struct lb_db *db)
{
    (void)db;
    return "";
}

enum lb_status lb_db_status_from_sqlstate(const char *sqlstate)
{
    (void)sqlstate;
    return LB_INTERNAL;
}

/* ---- store/util.h --------------------------------------------------------------------------- */

enum lb_status store_exec_json(struct lb_db *db, const struct lb_db_stmt *stmt, int nparams,
                               const char *const *values, struct lb_buf *out)
{
    (void)db, (void)stmt, (void)nparams, (void)values, (void)out;
    unexpected("store_exec_json");
}

enum lb_status store_append(struct lb_buf *out, const char *text)
{
    return lb_buf_puts(out, text) == 0 ? LB_OK : LB_INTERNAL;
}

/* ---- store/tenants.h ------------------------------------------------------------------------ */

static void put_tenant(struct lb_buf *out)
{
    lb_buf_puts(out, "{\"id\":\"" STUB_TENANT "\",\"name\":");
    put_text(out);
    lb_buf_puts(out, ",\"userId\":null,\"createdAt\":" TS ",\"updatedAt\":" TS "}");
}

enum lb_status store_tenant_create(struct lb_db *db, const char *name, const char *user_id,
                                   struct lb_buf *out)
{
    (void)db, (void)name, (void)user_id, (void)out;
    unexpected("store_tenant_create"); /* the operator's */
}

/* Only for signed-in users: the stub knows no sign-in token. */
enum lb_status store_tenant_create_for_user(struct lb_db *db, const char *user_id, const char *name,
                                            struct lb_buf *out)
{
    (void)db, (void)name, (void)user_id, (void)out;
    unexpected("store_tenant_create_for_user");
}

enum lb_status store_tenant_of_user(struct lb_db *db, const char *user_id, char tenant_id[37])
{
    (void)db, (void)user_id, (void)tenant_id;
    unexpected("store_tenant_of_user");
}

enum lb_status store_tenant_get(struct lb_db *db, const char *tenant_id, struct lb_buf *out)
{
    (void)db;
    enum lb_status st = tenant_call("store_tenant_get", tenant_id);
    if (st == LB_OK)
        put_tenant(out);
    return st;
}

enum lb_status store_tenant_get_by_user(struct lb_db *db, const char *tenant_id,
                                        const char *user_id, struct lb_buf *out)
{
    (void)db;
    FUZZ_ASSERT(user_id && *user_id, "store got an empty user id");
    enum lb_status st = tenant_call("store_tenant_get_by_user", tenant_id);
    if (st == LB_OK)
        put_tenant(out);
    return st;
}

enum lb_status store_tenant_rename(struct lb_db *db, const char *tenant_id, const char *name,
                                   struct lb_buf *out)
{
    (void)db;
    check_text("tenant name", name, 1, 200);
    enum lb_status st = tenant_call("store_tenant_rename", tenant_id);
    if (st == LB_OK)
        put_tenant(out);
    return st;
}

/* ---- store/keys.h: the operator's calls, never the API's (but the lookup) ------------------- */

enum lb_status store_key_create_booking_page(struct lb_db *db, const char *label,
                                             struct lb_buf *out)
{
    (void)db, (void)label, (void)out;
    unexpected("store_key_create_booking_page");
}

enum lb_status store_key_list_booking_page(struct lb_db *db, struct lb_buf *out)
{
    (void)db, (void)out;
    unexpected("store_key_list_booking_page");
}

enum lb_status store_key_create(struct lb_db *db, const char *tenant_id, const char *label,
                                struct lb_buf *out)
{
    (void)db, (void)tenant_id, (void)label, (void)out;
    unexpected("store_key_create");
}

enum lb_status store_key_revoke(struct lb_db *db, const char *key_id, struct lb_buf *out)
{
    (void)db, (void)key_id, (void)out;
    unexpected("store_key_revoke");
}

enum lb_status store_key_list(struct lb_db *db, const char *tenant_id, struct lb_buf *out)
{
    (void)db, (void)tenant_id, (void)out;
    unexpected("store_key_list");
}

/* The lookup accepts exactly one key, until it is revoked. */
enum lb_status store_key_lookup(struct lb_db *db, const unsigned char hash[LB_SHA256_LEN],
                                struct store_key_ref *ref)
{
    (void)db;
    if (ctl.answer == LB_UNAVAILABLE) {
        seen.unavailable = 1;
        return LB_UNAVAILABLE;
    }
    unsigned char want[LB_SHA256_LEN];
    lb_sha256(STUB_KEY, strlen(STUB_KEY), want);
    if (revoked || memcmp(hash, want, sizeof want) != 0)
        return LB_NOT_FOUND;
    memcpy(ref->tenant_id, STUB_TENANT, sizeof ref->tenant_id);
    memcpy(ref->key_id, STUB_KEY_ID, sizeof ref->key_id);
    ref->booking_page = 0;
    return LB_OK;
}

/* ---- store/agents.h ------------------------------------------------------------------------- */

enum lb_status store_agent_create(struct lb_db *db, const char *tenant_id, const char *name,
                                  const char *knowledge, int link_expiry_hours, struct lb_buf *out)
{
    (void)db;
    check_text("agent name", name, 1, 100);
    check_text("knowledge", knowledge, 10, 0);
    FUZZ_ASSERT(link_expiry_hours == 0 || (link_expiry_hours >= 1 && link_expiry_hours <= 168),
                "store got linkExpiryHours %d", link_expiry_hours);
    enum lb_status st = tenant_call("store_agent_create", tenant_id);
    if (st == LB_OK)
        put_agent(out);
    return st;
}

enum lb_status store_agent_list(struct lb_db *db, const char *tenant_id, struct lb_buf *out)
{
    (void)db;
    enum lb_status st = tenant_call("store_agent_list", tenant_id);
    if (st == LB_OK) {
        lb_buf_putc(out, '[');
        put_agent(out);
        lb_buf_putc(out, ']');
    }
    return st;
}

enum lb_status store_agent_get(struct lb_db *db, const char *tenant_id, const char *agent_id,
                               struct lb_buf *out)
{
    (void)db;
    check_uuid("agent id", agent_id);
    enum lb_status st = tenant_call("store_agent_get", tenant_id);
    if (st == LB_OK)
        put_agent(out);
    return st;
}

enum lb_status store_agent_by_link(struct lb_db *db, const char *tenant_id, const char *public_link,
                                   struct lb_buf *out)
{
    (void)db;
    check_uuid("public link", public_link);
    enum lb_status st = tenant_call("store_agent_by_link", tenant_id);
    if (st == LB_OK)
        put_agent(out);
    return st;
}

enum lb_status store_agent_update(struct lb_db *db, const char *tenant_id, const char *agent_id,
                                  const char *name, const char *knowledge, int link_expiry_hours,
                                  struct lb_buf *out)
{
    (void)db;
    check_uuid("agent id", agent_id);
    if (name)
        check_text("agent name", name, 1, 100);
    if (knowledge)
        check_text("knowledge", knowledge, 10, 0);
    FUZZ_ASSERT(link_expiry_hours == -1 || (link_expiry_hours >= 1 && link_expiry_hours <= 168),
                "store got linkExpiryHours %d", link_expiry_hours);
    enum lb_status st = tenant_call("store_agent_update", tenant_id);
    if (st == LB_OK)
        put_agent(out);
    return st;
}

enum lb_status store_agent_delete(struct lb_db *db, const char *tenant_id, const char *agent_id)
{
    (void)db;
    check_uuid("agent id", agent_id);
    return tenant_call("store_agent_delete", tenant_id);
}

/* The booking page's key is not the stub's: no handler may ask for an agent of any tenant. */
enum lb_status store_agent_by_link_for_booking_page(struct lb_db *db, const char *public_link,
                                                    struct lb_buf *out)
{
    (void)db, (void)public_link, (void)out;
    unexpected("store_agent_by_link_for_booking_page");
}

/* ---- store/leads.h -------------------------------------------------------------------------- */

/* Every change is made by the one live key of the stub. */
static void check_actor(const struct store_actor *by)
{
    FUZZ_ASSERT(by && by->kind && strcmp(by->kind, "key") == 0 && by->id &&
                    strcmp(by->id, STUB_KEY_ID) == 0,
                "store got actor %s \"%s\"", by && by->kind ? by->kind : "(null)",
                by && by->id ? by->id : "(null)");
}

enum lb_status store_lead_create_for_agent(struct lb_db *db, const char *agent_id, const char *name,
                                           const char *email, const char *scheduled_at,
                                           const struct store_actor *by, struct lb_buf *out)
{
    (void)db, (void)agent_id, (void)name, (void)email, (void)scheduled_at, (void)by, (void)out;
    unexpected("store_lead_create_for_agent");
}

enum lb_status store_lead_create(struct lb_db *db, const char *tenant_id, const char *agent_id,
                                 const char *name, const char *email, const char *scheduled_at,
                                 const struct store_actor *by, struct lb_buf *out)
{
    (void)db;
    check_uuid("agent id", agent_id);
    check_text("lead name", name, 1, 200);
    FUZZ_ASSERT(email && lb_validate_email(email) == 0, "store got email \"%s\"",
                email ? email : "(null)");
    int64_t us;
    FUZZ_ASSERT(scheduled_at && lb_time_parse_iso8601(scheduled_at, &us) == 0,
                "store got scheduled_at \"%s\"", scheduled_at ? scheduled_at : "(null)");
    check_actor(by);
    enum lb_status st = tenant_call("store_lead_create", tenant_id);
    if (st == LB_OK) {
        lb_buf_puts(out, "{\"lead\":");
        put_lead(out, 0);
        lb_buf_puts(out, ",\"booking\":");
        put_booking(out, 1);
        lb_buf_puts(out, ",\"meetingToken\":\"" TOKEN "\"}");
    }
    return st;
}

enum lb_status store_lead_list(struct lb_db *db, const char *tenant_id, const char *agent_id,
                               int limit, const struct store_cursor *after,
                               struct store_cursor *next, int *has_more, struct lb_buf *out)
{
    (void)db;
    if (agent_id)
        check_uuid("agent filter", agent_id);
    FUZZ_ASSERT(limit >= 1 && limit <= 1000, "store got limit %d", limit);
    if (after) {
        check_uuid("cursor id", after->id);
        FUZZ_ASSERT(after->created_us >= LB_TIME_MIN_US && after->created_us <= LB_TIME_MAX_US,
                    "store got cursor time %lld", (long long)after->created_us);
    }
    FUZZ_ASSERT(next && has_more, "store_lead_list without next/has_more");
    enum lb_status st = tenant_call("store_lead_list", tenant_id);
    if (st == LB_OK) {
        lb_buf_putc(out, '[');
        put_lead(out, 1);
        lb_buf_putc(out, ']');
        *has_more = ctl.more;
        if (ctl.more) {
            next->created_us = ctl.next_created_us;
            memcpy(next->id, LEAD_ID, sizeof next->id);
        }
    }
    return st;
}

enum lb_status store_lead_get(struct lb_db *db, const char *tenant_id, const char *lead_id,
                              struct lb_buf *out)
{
    (void)db;
    check_uuid("lead id", lead_id);
    enum lb_status st = tenant_call("store_lead_get", tenant_id);
    if (st == LB_OK)
        put_lead(out, 1);
    return st;
}

enum lb_status store_lead_stats(struct lb_db *db, const char *tenant_id, const char *agent_id,
                                struct lb_buf *out)
{
    (void)db;
    if (agent_id)
        check_uuid("agent filter", agent_id);
    enum lb_status st = tenant_call("store_lead_stats", tenant_id);
    if (st == LB_OK)
        lb_buf_puts(out,
                    "{\"totalLeads\":3,\"total\":3,\"upcoming\":1,\"completed\":1,\"expired\":0,"
                    "\"confirmed\":1,\"cancelled\":0,\"conversionRate\":33}");
    return st;
}

/* ---- store/bookings.h ----------------------------------------------------------------------- */

enum lb_status store_booking_meeting(struct lb_db *db, const char *meeting_token,
                                     struct lb_buf *out)
{
    (void)db;
    check_uuid("meeting token", meeting_token);
    seen.data_calls++;
    seen.data_status = ctl.answer;
    if (ctl.answer == LB_UNAVAILABLE)
        seen.unavailable = 1;
    if (ctl.answer != LB_OK)
        return ctl.answer;
    /* the public projection: no tenantId */
    lb_buf_putc(out, '{');
    put_booking_members(out, 0);
    lb_buf_puts(out, ",\"isExpired\":false,\"lead\":{\"id\":\"" LEAD_ID "\",\"name\":");
    put_text(out);
    lb_buf_puts(out, ",\"email\":");
    put_text(out);
    lb_buf_puts(out, "},\"agent\":{\"id\":\"" AGENT_ID "\",\"name\":");
    put_text(out);
    lb_buf_puts(out, ",\"knowledge\":");
    put_text(out);
    lb_buf_puts(out, "}}");
    return LB_OK;
}

enum lb_status store_booking_set_status(struct lb_db *db, const char *tenant_id,
                                        const char *booking_id, const char *new_status,
                                        const struct store_actor *by, struct lb_buf *out,
                                        char from_status[STORE_STATUS_LEN])
{
    (void)db;
    check_uuid("booking id", booking_id);
    enum lb_booking_status bs;
    FUZZ_ASSERT(new_status && lb_booking_status_parse(new_status, &bs) == 0,
                "store got status \"%s\"", new_status ? new_status : "(null)");
    check_actor(by);
    FUZZ_ASSERT(from_status != NULL, "no from_status buffer");
    enum lb_status st = tenant_call("store_booking_set_status", tenant_id);
    if (st == LB_OK || st == LB_CONFLICT)
        memcpy(from_status, ctl.booking_status, strlen(ctl.booking_status) + 1);
    if (st == LB_OK)
        put_booking(out, 1);
    return st;
}

enum lb_status store_booking_expire_all(struct lb_db *db, long *count)
{
    (void)db, (void)count;
    unexpected("store_booking_expire_all");
}

/* ---- the idempotent variants (store/idempotency.h) -------------------------------------------
 * The same checks as the plain calls, plus the idempotency record's inputs; the answer is a new
 * one (the stub stores nothing), carrying the status the plain call's handler would send. */

static void check_idem(const struct store_idem *idem, int wants_not_found)
{
    FUZZ_ASSERT(idem && idem->scope && strcmp(idem->scope, "key:" STUB_KEY_ID) == 0,
                "store got idempotency scope \"%s\"", idem && idem->scope ? idem->scope : "(null)");
    FUZZ_ASSERT(idem->key && lb_validate_idempotency_key(idem->key) == 0,
                "store got an invalid Idempotency-Key");
    FUZZ_ASSERT(idem->fingerprint && strlen(idem->fingerprint) == 64 &&
                    strspn(idem->fingerprint, "0123456789abcdef") == 64,
                "store got fingerprint \"%s\"", idem->fingerprint ? idem->fingerprint : "(null)");
    FUZZ_ASSERT(!wants_not_found ||
                    (idem->not_found && strncmp(idem->not_found, "{\"statusCode\":404,", 18) == 0),
                "store got no pre-rendered 404 answer");
}

static enum lb_status idem_new(enum lb_status st, struct store_idem *idem, int status)
{
    if (st == LB_OK) {
        idem->outcome = STORE_IDEM_NEW;
        idem->status = status;
    }
    return st;
}

enum lb_status store_lead_create_idem(struct lb_db *db, const char *tenant_id, const char *agent_id,
                                      const char *name, const char *email, const char *scheduled_at,
                                      const struct store_actor *by, struct store_idem *idem,
                                      struct lb_buf *out)
{
    check_idem(idem, 1);
    FUZZ_ASSERT(tenant_id != NULL, "the stub's key is a tenant key");
    return idem_new(store_lead_create(db, tenant_id, agent_id, name, email, scheduled_at, by, out),
                    idem, 201);
}

enum lb_status store_booking_set_status_idem(struct lb_db *db, const char *tenant_id,
                                             const char *booking_id, const char *new_status,
                                             const struct store_actor *by, struct store_idem *idem,
                                             struct lb_buf *out)
{
    check_idem(idem, 1);
    char from[STORE_STATUS_LEN];
    return idem_new(store_booking_set_status(db, tenant_id, booking_id, new_status, by, out, from),
                    idem, 200);
}

enum lb_status store_agent_create_idem(struct lb_db *db, const char *tenant_id, const char *name,
                                       const char *knowledge, int link_expiry_hours,
                                       struct store_idem *idem, struct lb_buf *out)
{
    check_idem(idem, 0);
    return idem_new(store_agent_create(db, tenant_id, name, knowledge, link_expiry_hours, out),
                    idem, 201);
}

enum lb_status store_agent_update_idem(struct lb_db *db, const char *tenant_id,
                                       const char *agent_id, const char *name,
                                       const char *knowledge, int link_expiry_hours,
                                       struct store_idem *idem, struct lb_buf *out)
{
    check_idem(idem, 1);
    return idem_new(
        store_agent_update(db, tenant_id, agent_id, name, knowledge, link_expiry_hours, out), idem,
        200);
}

enum lb_status store_tenant_create_for_user_idem(struct lb_db *db, const char *user_id,
                                                 const char *name, struct store_idem *idem,
                                                 const char *conflict, struct lb_buf *out)
{
    (void)db, (void)user_id, (void)name, (void)idem, (void)conflict, (void)out;
    unexpected("store_tenant_create_for_user_idem");
}

enum lb_status store_tenant_rename_idem(struct lb_db *db, const char *tenant_id, const char *name,
                                        struct store_idem *idem, struct lb_buf *out)
{
    check_idem(idem, 1);
    return idem_new(store_tenant_rename(db, tenant_id, name, out), idem, 200);
}

enum lb_status store_idem_purge(struct lb_db *db, long *count)
{
    (void)db, (void)count;
    unexpected("store_idem_purge");
}

/* ---- store/booking_changes.h ------------------------------------------------------------------
 */

static void check_when(const char *scheduled_at)
{
    int64_t us;
    FUZZ_ASSERT(scheduled_at && lb_time_parse_iso8601(scheduled_at, &us) == 0,
                "store got scheduled_at \"%s\"", scheduled_at ? scheduled_at : "(null)");
}

/* A change's answer: 200 with the booking as the plain call would give it, or the store's
 * status. */
static enum lb_status change_answer(enum lb_status st, struct store_idem *idem,
                                    struct store_answer *ans, struct lb_buf *out, int public)
{
    FUZZ_ASSERT(ans && ans->not_found && strncmp(ans->not_found, "{\"statusCode\":404,", 18) == 0,
                "store got no pre-rendered 404 answer");
    if (st != LB_OK)
        return st;
    put_booking(out, !public);
    ans->status = 200;
    if (idem) {
        check_idem(idem, 1);
        idem->outcome = STORE_IDEM_NEW;
        idem->status = 200;
    }
    return LB_OK;
}

enum lb_status store_booking_reschedule(struct lb_db *db, const char *tenant_id,
                                        const char *booking_id, const char *scheduled_at,
                                        const struct store_actor *by, struct store_idem *idem,
                                        struct store_answer *ans, struct lb_buf *out)
{
    (void)db;
    check_uuid("booking id", booking_id);
    check_when(scheduled_at);
    check_actor(by);
    return change_answer(tenant_call("store_booking_reschedule", tenant_id), idem, ans, out, 0);
}

/* Public: the stub's requests never carry a tenant here; the token was validated. */
enum lb_status store_booking_prospect_change(struct lb_db *db, const char *meeting_token,
                                             const char *new_status, const char *scheduled_at,
                                             struct store_idem *idem, struct store_answer *ans,
                                             struct lb_buf *out)
{
    (void)db;
    check_uuid("meeting token", meeting_token);
    FUZZ_ASSERT(!new_status != !scheduled_at, "store got both or neither of status and time");
    if (new_status)
        FUZZ_ASSERT(strcmp(new_status, "CONFIRMED") == 0 || strcmp(new_status, "CANCELLED") == 0,
                    "store got prospect status \"%s\"", new_status);
    else
        check_when(scheduled_at);
    if (idem)
        FUZZ_ASSERT(strncmp(idem->scope, "meeting:", 8) == 0 &&
                        strcmp(idem->scope + 8, meeting_token) == 0,
                    "store got idempotency scope \"%s\" for a meeting token", idem->scope);
    seen.data_calls++;
    seen.data_status = ctl.answer;
    if (ctl.answer == LB_UNAVAILABLE)
        seen.unavailable = 1;
    if (idem && ctl.answer == LB_OK) {
        /* check_idem wants the tenant key's scope; the meeting scope was checked above */
        put_booking(out, 0);
        ans->status = 200;
        idem->outcome = STORE_IDEM_NEW;
        idem->status = 200;
        return LB_OK;
    }
    return change_answer(ctl.answer, NULL, ans, out, 1);
}

enum lb_status store_booking_events(struct lb_db *db, const char *tenant_id, const char *booking_id,
                                    struct lb_buf *out)
{
    (void)db;
    check_uuid("booking id", booking_id);
    enum lb_status st = tenant_call("store_booking_events", tenant_id);
    if (st == LB_OK)
        lb_buf_puts(out, "[{\"id\":\"" BOOKING_ID "\",\"kind\":\"status\",\"fromStatus\":null,"
                         "\"toStatus\":\"PENDING\",\"fromScheduledAt\":null,\"toScheduledAt\":null,"
                         "\"at\":" TS ",\"by\":{\"kind\":\"key\",\"id\":\"" STUB_KEY_ID "\"}}]");
    return st;
}

/* ---- store/health.h ---------------------------------------------------------------------------
 */

enum lb_status store_health_check(struct lb_db *db)
{
    (void)db;
    seen.data_calls++;
    seen.data_status = ctl.answer == LB_READ_ONLY ? LB_READ_ONLY
                       : ctl.answer == LB_OK      ? LB_OK
                                                  : LB_UNAVAILABLE;
    if (seen.data_status == LB_UNAVAILABLE)
        seen.unavailable = 1;
    return seen.data_status;
}

/* ---- store/webhooks.h ------------------------------------------------------------------------ */

const struct lb_db_stmt_set store_webhooks_statements = {NULL, 0};

#define WEBHOOK_ID "5e4d3c2b-1a09-4f8e-9d7c-6b5a49382716"
#define WEBHOOK_SECRET "whsec_MDEyMzQ1Njc4OWFiY2RlZmdoaWprbG1ub3BxcnN0dXY="

/* What the handlers may pass: a URL the parser accepts, a text[] literal of distinct known
 * event names, a description of at most 500 characters, a fresh whsec_ secret. */
static void check_webhook_fields(const char *url, const char *events, const char *description)
{
    struct lb_url u;
    if (url)
        FUZZ_ASSERT(lb_url_parse(url, &u) == LB_URL_OK, "store got url \"%s\"", url);
    if (events) {
        size_t n = strlen(events);
        FUZZ_ASSERT(n >= 2 && events[0] == '{' && events[n - 1] == '}', "store got events \"%s\"",
                    events);
        int seen_event[LB_WEBHOOK_EVENT_COUNT] = {0}, count = 0;
        for (const char *p = events + 1; p < events + n - 1;) {
            size_t len = strcspn(p, ",}"), k = 0;
            while (lb_webhook_event_name(k) && (strlen(lb_webhook_event_name(k)) != len ||
                                                strncmp(p, lb_webhook_event_name(k), len) != 0))
                k++;
            FUZZ_ASSERT(lb_webhook_event_name(k) && !seen_event[k], "store got events \"%s\"",
                        events);
            seen_event[k] = 1;
            count++;
            p += len + (p[len] == ',');
        }
        FUZZ_ASSERT(count >= 1, "store got no events");
    }
    if (description)
        check_text("description", description, 0, 500);
}

static void check_secret(const char *secret)
{
    FUZZ_ASSERT(secret && strlen(secret) == 50 && strncmp(secret, "whsec_", 6) == 0 &&
                    secret[49] == '=',
                "store got secret \"%s\"", secret ? secret : "(null)");
}

static void put_webhook(struct lb_buf *out, int created)
{
    lb_buf_puts(out, "{\"id\":\"" WEBHOOK_ID "\",\"url\":\"https://hooks.example.com/x\","
                     "\"events\":[\"booking.created\"],\"description\":");
    put_text(out);
    if (created)
        lb_buf_puts(out,
                    ",\"secret\":\"" WEBHOOK_SECRET "\",\"enabled\":true,\"createdAt\":" TS "}");
    else
        lb_buf_puts(out, ",\"enabled\":true,\"createdAt\":" TS ",\"updatedAt\":" TS
                         ",\"disabledReason\":null,\"failingSince\":null,"
                         "\"previousSecretExpiresAt\":null}");
}

enum lb_status store_webhook_create(struct lb_db *db, const char *tenant_id, const char *url,
                                    const char *events, const char *description, const char *secret,
                                    struct lb_buf *out)
{
    (void)db;
    FUZZ_ASSERT(url && events, "store_webhook_create without url or events");
    check_webhook_fields(url, events, description);
    check_secret(secret);
    enum lb_status st = tenant_call("store_webhook_create", tenant_id);
    if (st == LB_OK)
        put_webhook(out, 1);
    return st;
}

enum lb_status store_webhook_list(struct lb_db *db, const char *tenant_id, struct lb_buf *out)
{
    (void)db;
    enum lb_status st = tenant_call("store_webhook_list", tenant_id);
    if (st == LB_OK) {
        lb_buf_putc(out, '[');
        put_webhook(out, 0);
        lb_buf_putc(out, ']');
    }
    return st;
}

enum lb_status store_webhook_get(struct lb_db *db, const char *tenant_id, const char *webhook_id,
                                 struct lb_buf *out)
{
    (void)db;
    check_uuid("webhook id", webhook_id);
    enum lb_status st = tenant_call("store_webhook_get", tenant_id);
    if (st == LB_OK)
        put_webhook(out, 0);
    return st;
}

enum lb_status store_webhook_update(struct lb_db *db, const char *tenant_id, const char *webhook_id,
                                    const char *url, const char *events, const char *description,
                                    int enabled, struct lb_buf *out)
{
    (void)db;
    check_uuid("webhook id", webhook_id);
    check_webhook_fields(url, events, description);
    FUZZ_ASSERT(enabled >= -1 && enabled <= 1, "store got enabled %d", enabled);
    enum lb_status st = tenant_call("store_webhook_update", tenant_id);
    if (st == LB_OK)
        put_webhook(out, 0);
    return st;
}

enum lb_status store_webhook_delete(struct lb_db *db, const char *tenant_id, const char *webhook_id)
{
    (void)db;
    check_uuid("webhook id", webhook_id);
    return tenant_call("store_webhook_delete", tenant_id);
}

enum lb_status store_webhook_rotate(struct lb_db *db, const char *tenant_id, const char *webhook_id,
                                    const char *secret, struct lb_buf *out)
{
    (void)db;
    check_uuid("webhook id", webhook_id);
    check_secret(secret);
    enum lb_status st = tenant_call("store_webhook_rotate", tenant_id);
    if (st == LB_OK)
        lb_buf_puts(out, "{\"secret\":\"" WEBHOOK_SECRET "\",\"previousSecretExpiresAt\":" TS "}");
    return st;
}

enum lb_status store_webhook_create_idem(struct lb_db *db, const char *tenant_id, const char *url,
                                         const char *events, const char *description,
                                         const char *secret, struct store_idem *idem,
                                         struct lb_buf *out)
{
    check_idem(idem, 0);
    return idem_new(store_webhook_create(db, tenant_id, url, events, description, secret, out),
                    idem, 201);
}

enum lb_status store_webhook_update_idem(struct lb_db *db, const char *tenant_id,
                                         const char *webhook_id, const char *url,
                                         const char *events, const char *description, int enabled,
                                         struct store_idem *idem, struct lb_buf *out)
{
    check_idem(idem, 1);
    return idem_new(
        store_webhook_update(db, tenant_id, webhook_id, url, events, description, enabled, out),
        idem, 200);
}

enum lb_status store_webhook_rotate_idem(struct lb_db *db, const char *tenant_id,
                                         const char *webhook_id, const char *secret,
                                         struct store_idem *idem, struct lb_buf *out)
{
    check_idem(idem, 1);
    return idem_new(store_webhook_rotate(db, tenant_id, webhook_id, secret, out), idem, 200);
}

enum lb_status store_webhook_deliveries(struct lb_db *db, const char *tenant_id,
                                        const char *webhook_id, int limit,
                                        const struct store_cursor *after, struct store_cursor *next,
                                        int *has_more, struct lb_buf *out)
{
    (void)db;
    check_uuid("webhook id", webhook_id);
    FUZZ_ASSERT(limit >= 1 && limit <= 1000, "store got limit %d", limit);
    if (after) {
        check_uuid("cursor id", after->id);
        FUZZ_ASSERT(after->created_us >= LB_TIME_MIN_US && after->created_us <= LB_TIME_MAX_US,
                    "store got cursor time %lld", (long long)after->created_us);
    }
    FUZZ_ASSERT(next && has_more, "store_webhook_deliveries without next/has_more");
    enum lb_status st = tenant_call("store_webhook_deliveries", tenant_id);
    if (st == LB_OK) {
        lb_buf_puts(out, "[{\"id\":\"" BOOKING_ID "\",\"eventId\":\"" LEAD_ID
                         "\",\"event\":\"booking.created\",\"attempt\":1,"
                         "\"status\":\"pending\",\"responseStatus\":null,\"error\":");
        put_text(out);
        lb_buf_puts(out, ",\"createdAt\":" TS ",\"nextAttemptAt\":" TS ",\"deliveredAt\":null}]");
        *has_more = ctl.more;
        if (ctl.more) {
            next->created_us = ctl.next_created_us;
            memcpy(next->id, BOOKING_ID, sizeof next->id);
        }
    }
    return st;
}

/* ---- store/metrics.h ------------------------------------------------------------------------ */

/* GET /metrics leaves its webhook lines out when the database fails, and answers 200 all the
 * same: so this call is not a "data call" whose status the response must carry. */
enum lb_status store_metrics_webhooks(struct lb_db *db, struct store_webhook_figures *out)
{
    (void)db;
    if (ctl.answer != LB_OK)
        return ctl.answer;
    out->delivered = 3;
    out->failed = 1;
    out->pending = 2;
    out->lag_s = 1.5;
    return LB_OK;
}

enum lb_status store_webhook_purge(struct lb_db *db, long *deliveries, long *events)
{
    (void)db, (void)deliveries, (void)events;
    unexpected("store_webhook_purge"); /* the operator's */
}
