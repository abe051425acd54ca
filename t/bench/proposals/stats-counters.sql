-- proposals/stats-counters.sql: the read side of a proposed GET /leads/stats that does not scan
-- every lead and booking of the tenant (t/bench/profile --scale runs it on a scratch copy of
-- the bench database; nothing here is in sql/).
--
-- Counts by (tenant, agent, status) and leads by (tenant, agent) come from counter tables
-- (simulated here with CREATE TABLE AS; in the product they would be maintained by triggers,
-- see README "Proposed changes" for the contention caveat). What depends on now() is counted
-- from the still-open bookings only, and only those whose expiry is at most 168 h away (the
-- CHECK maximum of link_expiry_hours, so the bound holds whatever the agent's setting was):
--   expired  = EXPIRED + open with expires_at <= now()
--   upcoming = PENDING - PENDING with scheduled_at <= now()
--              (scheduled_at <= now() <=> not upcoming, as expires_at > scheduled_at)
-- The range scan on bookings_tenant_stats (tenant_id, status, expires_at, scheduled_at) stays
-- small when `leadbookctl expire` runs regularly (open bookings past expiry become EXPIRED).
CREATE TABLE bench_booking_counts AS
    SELECT tenant_id, agent_id, status, count(*)::bigint AS n FROM bookings GROUP BY 1, 2, 3;
CREATE INDEX ON bench_booking_counts (tenant_id, agent_id);
CREATE TABLE bench_lead_counts AS
    SELECT tenant_id, agent_id, count(*)::bigint AS n FROM leads GROUP BY 1, 2;
CREATE INDEX ON bench_lead_counts (tenant_id, agent_id);
ANALYZE bench_booking_counts, bench_lead_counts;

PREPARE stats_new(uuid) AS
WITH l AS (SELECT COALESCE(sum(n), 0)::bigint AS n FROM bench_lead_counts WHERE tenant_id = $1),
c AS (SELECT COALESCE(sum(n) FILTER (WHERE status = 'PENDING'), 0)::bigint AS pending,
             COALESCE(sum(n) FILTER (WHERE status = 'COMPLETED'), 0)::bigint AS completed,
             COALESCE(sum(n) FILTER (WHERE status = 'EXPIRED'), 0)::bigint AS expired,
             COALESCE(sum(n) FILTER (WHERE status = 'CONFIRMED'), 0)::bigint AS confirmed,
             COALESCE(sum(n) FILTER (WHERE status = 'CANCELLED'), 0)::bigint AS cancelled
      FROM bench_booking_counts WHERE tenant_id = $1),
o AS (SELECT count(*) FILTER (WHERE expires_at <= now()) AS open_expired,
             count(*) FILTER (WHERE status = 'PENDING' AND scheduled_at <= now()) AS pending_started
      FROM bookings WHERE tenant_id = $1 AND status IN ('PENDING', 'CONFIRMED')
        AND expires_at <= now() + interval '168 hours')
SELECT json_build_object('totalLeads', l.n, 'upcoming', c.pending - o.pending_started,
  'completed', c.completed, 'expired', c.expired + o.open_expired, 'confirmed', c.confirmed,
  'cancelled', c.cancelled, 'conversionRate',
  CASE WHEN l.n = 0 THEN 0 ELSE (c.completed * 200 + l.n) / (2 * l.n) END) FROM l, c, o;
