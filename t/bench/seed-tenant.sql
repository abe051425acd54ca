-- seed-tenant.sql: fills one tenant with :n leads, one booking each, in one INSERT ... SELECT per
-- table (t/bench/run calls it through psql with -v tenant=UUID -v n=N -v pfx=P -v mode=M).
--
--   pfx   ''       ids and meeting tokens are random (gen_random_uuid(), as in production)
--         7 hex    ids are deterministic so that pgbench and wrk can name row i without a
--                  lookup: lead i = pfx||'1-0000-4000-8000-'||tail(i), booking i = pfx||'2-…',
--                  meeting token i = pfx||'3-…', tail(i) = (i*7919 mod 9e11) + 1e11 (12 decimal
--                  digits, a bijection, so consecutive i land far apart in the indexes, like
--                  random UUIDs do). Still valid v4-shaped UUIDs (version 4, variant 8).
--   mode  mixed    scheduled_at spread over now() ± 30 days; past bookings mostly final
--                  (COMPLETED/EXPIRED/CANCELLED, 5% PENDING and 5% CONFIRMED left open and
--                  so expired by time), future ones PENDING 60% / CONFIRMED 30% / CANCELLED 10%
--         pool     every booking PENDING and in the future: the pool for PATCH .../status
-- created_at is spread evenly over the last 60 days (lead i = the i-th oldest); no booking_events
-- (nothing the benchmarked reads look at). The tenant's agents must exist (round-robin).
\set ON_ERROR_STOP on
BEGIN;
CREATE TEMP TABLE seed_agents ON COMMIT DROP AS
    SELECT row_number() OVER (ORDER BY id) - 1 AS k, id, link_expiry_hours
    FROM agents WHERE tenant_id = :'tenant';

INSERT INTO leads (id, tenant_id, agent_id, name, email, booked_at, created_at, updated_at)
SELECT CASE WHEN :'pfx' = '' THEN gen_random_uuid()
            ELSE (:'pfx' || '1-0000-4000-8000-' || ((i * 7919) % 900000000000 + 100000000000))::uuid END,
       :'tenant', a.id, 'Lead ' || i, 'lead' || i || '@example.com', c.at, c.at, c.at
FROM generate_series(1, :n::bigint) AS i
CROSS JOIN LATERAL (SELECT now() - interval '60 days' * ((:n - i + 1)::float8 / :n) AS at) c
JOIN seed_agents a ON a.k = i % (SELECT count(*) FROM seed_agents);

INSERT INTO bookings (id, tenant_id, lead_id, agent_id, scheduled_at, status, expires_at,
                      meeting_token, created_at, updated_at)
SELECT CASE WHEN :'pfx' = '' THEN gen_random_uuid()
            ELSE (:'pfx' || '2-0000-4000-8000-' || tail)::uuid END,
       l.tenant_id, l.id, l.agent_id, s.at,
       (CASE WHEN :'mode' = 'pool' THEN 'PENDING'
             WHEN s.at < now() THEN
                 CASE WHEN i % 20 = 0 THEN 'PENDING' WHEN i % 20 = 1 THEN 'CONFIRMED'
                      WHEN i % 20 < 11 THEN 'COMPLETED' WHEN i % 20 < 16 THEN 'EXPIRED'
                      ELSE 'CANCELLED' END
             ELSE CASE WHEN i % 10 < 6 THEN 'PENDING' WHEN i % 10 < 9 THEN 'CONFIRMED'
                       ELSE 'CANCELLED' END END)::booking_status,
       s.at + a.link_expiry_hours * interval '1 hour',
       CASE WHEN :'pfx' = '' THEN gen_random_uuid()
            ELSE (:'pfx' || '3-0000-4000-8000-' || tail)::uuid END,
       l.created_at, l.created_at
FROM (SELECT l.*, row_number() OVER (ORDER BY l.created_at) AS i FROM leads l
      WHERE l.tenant_id = :'tenant') l
JOIN seed_agents a ON a.id = l.agent_id
CROSS JOIN LATERAL (SELECT (i * 7919) % 900000000000 + 100000000000 AS tail) t
CROSS JOIN LATERAL (SELECT CASE WHEN :'mode' = 'pool'
                                THEN now() + interval '1 day' + (i % 1000) * interval '1 minute'
                                ELSE now() + ((i * 7919) % 5184000 - 2592000) * interval '1 second'
                           END AS at) s;
COMMIT;
