/* store/leadjson: the JSON of a lead from its rows (see leadjson.h). */
#include "store/leadjson.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

enum {
    L_ID,
    L_AGENT_ID,
    L_TENANT_ID,
    L_NAME,
    L_EMAIL,
    L_BOOKED_AT,
    L_CREATED_AT,
    L_UPDATED_AT,
    A_ID,
    A_NAME,
    A_PUBLIC_LINK,
    B_ID,
    B_LEAD_ID,
    B_AGENT_ID,
    B_TENANT_ID,
    B_SCHEDULED_AT,
    B_STATUS,
    B_EXPIRES_AT,
    B_MEETING_TOKEN,
    B_CREATED_AT,
    B_UPDATED_AT,
    NCOLS
};

/* A JSON string as PostgreSQL's escape_json writes it: \" \\ \b \f \n \r \t, other control
 * characters as \u00xx (lowercase hex), everything else (UTF-8 included) as it is. */
static int put_str(struct lb_buf *out, const char *s)
{
    if (lb_buf_putc(out, '"') != 0)
        return -1;
    const char *run = s;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        const char *esc = NULL;
        char u[8];
        switch (c) {
        case '"':
            esc = "\\\"";
            break;
        case '\\':
            esc = "\\\\";
            break;
        case '\b':
            esc = "\\b";
            break;
        case '\f':
            esc = "\\f";
            break;
        case '\n':
            esc = "\\n";
            break;
        case '\r':
            esc = "\\r";
            break;
        case '\t':
            esc = "\\t";
            break;
        default:
            if (c < 0x20) {
                snprintf(u, sizeof u, "\\u%04x", c);
                esc = u;
            }
        }
        if (esc) {
            if (lb_buf_append(out, run, (size_t)(s - run)) != 0 || lb_buf_puts(out, esc) != 0)
                return -1;
            run = s + 1;
        }
    }
    if (lb_buf_append(out, run, (size_t)(s - run)) != 0)
        return -1;
    return lb_buf_putc(out, '"');
}

/* A string column, or null. */
static int put_col(struct lb_buf *out, const PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col))
        return lb_buf_puts(out, "null");
    return put_str(out, PQgetvalue(res, row, col));
}

/* A SQL_TSJ column ("YYYY-MM-DDTHH:MM:SS[.ffffff]", quotes included) as to_char's
 * YYYY-MM-DD"T"HH24:MI:SS.MS"Z" (milliseconds truncated, as to_char's MS), or null. */
static int put_ts(struct lb_buf *out, const PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col))
        return lb_buf_puts(out, "null");
    const char *v = PQgetvalue(res, row, col);
    size_t n = strlen(v);
    if (n < 2 || v[0] != '"' || v[n - 1] != '"')
        return -1;
    const char *t = strchr(v, 'T'), *dot = strchr(v, '.');
    /* the seconds end at the fraction or the closing quote; "infinity" has no T */
    const char *end = dot ? dot : v + n - 1;
    if (!t || end - t != 9)
        return -1;
    char ms[4] = "000";
    if (dot)
        for (int i = 0; i < 3 && dot[1 + i] >= '0' && dot[1 + i] <= '9'; i++)
            ms[i] = dot[1 + i];
    if (lb_buf_append(out, v, (size_t)(end - v)) != 0)
        return -1;
    return lb_buf_printf(out, ".%sZ\"", ms);
}

#define KEY(k) (lb_buf_puts(out, k) != 0)

enum lb_status store_lead_json(const PGresult *res, int *row, struct lb_buf *out)
{
    int r = *row, n = PQntuples(res);
    if (PQnfields(res) != NCOLS || r >= n)
        return LB_INTERNAL;
    if (KEY("{\"id\":") || put_col(out, res, r, L_ID) || KEY(",\"agentId\":") ||
        put_col(out, res, r, L_AGENT_ID) || KEY(",\"tenantId\":") ||
        put_col(out, res, r, L_TENANT_ID) || KEY(",\"name\":") || put_col(out, res, r, L_NAME) ||
        KEY(",\"email\":") || put_col(out, res, r, L_EMAIL) || KEY(",\"bookedAt\":") ||
        put_ts(out, res, r, L_BOOKED_AT) || KEY(",\"createdAt\":") ||
        put_ts(out, res, r, L_CREATED_AT) || KEY(",\"updatedAt\":") ||
        put_ts(out, res, r, L_UPDATED_AT) || KEY(",\"bookings\":["))
        return LB_INTERNAL;
    const char *lead = PQgetvalue(res, r, L_ID);
    int first = r;
    for (; r < n && strcmp(PQgetvalue(res, r, L_ID), lead) == 0; r++) {
        if (PQgetisnull(res, r, B_ID))
            continue; /* the one row of a lead without bookings */
        if ((r > first && KEY(",")) || KEY("{\"id\":") || put_col(out, res, r, B_ID) ||
            KEY(",\"leadId\":") || put_col(out, res, r, B_LEAD_ID) || KEY(",\"agentId\":") ||
            put_col(out, res, r, B_AGENT_ID) || KEY(",\"tenantId\":") ||
            put_col(out, res, r, B_TENANT_ID) || KEY(",\"scheduledAt\":") ||
            put_ts(out, res, r, B_SCHEDULED_AT) || KEY(",\"status\":") ||
            put_col(out, res, r, B_STATUS) || KEY(",\"expiresAt\":") ||
            put_ts(out, res, r, B_EXPIRES_AT) || KEY(",\"meetingToken\":") ||
            put_col(out, res, r, B_MEETING_TOKEN) || KEY(",\"createdAt\":") ||
            put_ts(out, res, r, B_CREATED_AT) || KEY(",\"updatedAt\":") ||
            put_ts(out, res, r, B_UPDATED_AT) || KEY("}"))
            return LB_INTERNAL;
    }
    if (KEY("],\"agent\":"))
        return LB_INTERNAL;
    if (PQgetisnull(res, first, A_ID)) {
        if (KEY("null"))
            return LB_INTERNAL;
    } else if (KEY("{\"id\":") || put_col(out, res, first, A_ID) || KEY(",\"name\":") ||
               put_col(out, res, first, A_NAME) || KEY(",\"publicLink\":") ||
               put_col(out, res, first, A_PUBLIC_LINK) || KEY("}")) {
        return LB_INTERNAL;
    }
    if (KEY("}"))
        return LB_INTERNAL;
    *row = r;
    return LB_OK;
}

int64_t store_lead_created_us(const PGresult *res, int row)
{
    int y, mo, d, h, mi, s, len = 0;
    const char *v = PQgetvalue(res, row, L_CREATED_AT);
    if (sscanf(v, "\"%d-%d-%dT%d:%d:%d%n", &y, &mo, &d, &h, &mi, &s, &len) != 6)
        return -1;
    int64_t us = 0;
    if (v[len] == '.') {
        int digits = 0;
        for (const char *f = v + len + 1; *f >= '0' && *f <= '9' && digits < 6; f++, digits++)
            us = us * 10 + (*f - '0');
        for (; digits < 6; digits++)
            us *= 10;
    }
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = s};
    return (int64_t)timegm(&tm) * 1000000 + us;
}
