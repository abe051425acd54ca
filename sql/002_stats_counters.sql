-- 002_stats_counters: GET /leads/stats without reading every lead and booking of the tenant.
--
-- Applied by `leadbookctl migrate` inside one transaction (no BEGIN/COMMIT here). Never edit
-- once released (migrate refuses a changed checksum).
--
-- What the statistics count splits in two:
--   * what only changes when a row is written (leads per agent, bookings per agent and status):
--     kept in the counter tables below, maintained by statement triggers in the very
--     transaction that writes the rows, so a reader's snapshot sees counters and rows agree;
--   * what changes with the clock (a PENDING booking stops being "upcoming" once its time has
--     come; an open booking counts as "expired" once past expires_at): counted from the rows,
--     but only from those still open and already due, through two narrow indexes. Their number
--     is bounded by the expiry sweep (`leadbookctl expire`, every minute from its timer), not
--     by the size of the tenant.
--
-- Contention: one counter row per (tenant, agent, status) would serialise every concurrent
-- POST for one agent on that row until commit (a WAL flush each). The counters are therefore
-- split into shards by the writing backend (pg_backend_pid() % 8): a connection runs one
-- transaction at a time, so two writers only meet on a row when their backends share a shard.
-- A shard's count may go negative (a booking created on one backend and confirmed on
-- another); only the sum over shards means anything. Rows are summed on read (at most
-- agents x 5 statuses x 8 shards per tenant). n is in no index, so its updates are HOT.

CREATE TABLE stats_lead_counts (
    tenant_id uuid NOT NULL,
    agent_id  uuid NOT NULL,
    shard     smallint NOT NULL,
    n         bigint NOT NULL,
    PRIMARY KEY (tenant_id, agent_id, shard)
) WITH (fillfactor = 50);

CREATE TABLE stats_booking_counts (
    tenant_id uuid NOT NULL,
    agent_id  uuid NOT NULL,
    status    booking_status NOT NULL,
    shard     smallint NOT NULL,
    n         bigint NOT NULL,
    PRIMARY KEY (tenant_id, agent_id, status, shard)
) WITH (fillfactor = 50);

-- No foreign key to agents: deleting an agent cascades to its leads and bookings, whose
-- delete triggers below then drop the agent's counter rows themselves. No TRUNCATE trigger:
-- leads and bookings cannot be truncated (it would have to cascade to booking_events, whose
-- trigger in 001 refuses it).

-- Adds the net change of one statement. Rows are upserted in key order, so two multi-row
-- statements (a cascade, an expiry batch) lock counter rows in the same order and cannot
-- deadlock on them.
CREATE FUNCTION stats_count_leads() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO stats_lead_counts AS c (tenant_id, agent_id, shard, n)
        SELECT tenant_id, agent_id, (pg_backend_pid() % 8)::smallint, count(*)
        FROM new_rows GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (tenant_id, agent_id, shard) DO UPDATE SET n = c.n + excluded.n;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO stats_lead_counts AS c (tenant_id, agent_id, shard, n)
        SELECT tenant_id, agent_id, (pg_backend_pid() % 8)::smallint, sum(d)
        FROM (SELECT tenant_id, agent_id, -1 AS d FROM old_rows
              UNION ALL SELECT tenant_id, agent_id, 1 FROM new_rows) x
        GROUP BY 1, 2 HAVING sum(d) <> 0 ORDER BY 1, 2
        ON CONFLICT (tenant_id, agent_id, shard) DO UPDATE SET n = c.n + excluded.n;
    ELSE
        INSERT INTO stats_lead_counts AS c (tenant_id, agent_id, shard, n)
        SELECT tenant_id, agent_id, (pg_backend_pid() % 8)::smallint, -count(*)
        FROM old_rows GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (tenant_id, agent_id, shard) DO UPDATE SET n = c.n + excluded.n;
        DELETE FROM stats_lead_counts c
        WHERE (c.tenant_id, c.agent_id) IN (SELECT tenant_id, agent_id FROM old_rows)
          AND NOT EXISTS (SELECT 1 FROM agents a WHERE a.tenant_id = c.tenant_id
                                                   AND a.id = c.agent_id);
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION stats_count_bookings() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO stats_booking_counts AS c (tenant_id, agent_id, status, shard, n)
        SELECT tenant_id, agent_id, status, (pg_backend_pid() % 8)::smallint, count(*)
        FROM new_rows GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (tenant_id, agent_id, status, shard) DO UPDATE SET n = c.n + excluded.n;
    ELSIF TG_OP = 'UPDATE' THEN
        -- Only the net change: an update that leaves status and agent alone writes nothing.
        INSERT INTO stats_booking_counts AS c (tenant_id, agent_id, status, shard, n)
        SELECT tenant_id, agent_id, status, (pg_backend_pid() % 8)::smallint, sum(d)
        FROM (SELECT tenant_id, agent_id, status, -1 AS d FROM old_rows
              UNION ALL SELECT tenant_id, agent_id, status, 1 FROM new_rows) x
        GROUP BY 1, 2, 3 HAVING sum(d) <> 0 ORDER BY 1, 2, 3
        ON CONFLICT (tenant_id, agent_id, status, shard) DO UPDATE SET n = c.n + excluded.n;
    ELSE
        INSERT INTO stats_booking_counts AS c (tenant_id, agent_id, status, shard, n)
        SELECT tenant_id, agent_id, status, (pg_backend_pid() % 8)::smallint, -count(*)
        FROM old_rows GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (tenant_id, agent_id, status, shard) DO UPDATE SET n = c.n + excluded.n;
        DELETE FROM stats_booking_counts c
        WHERE (c.tenant_id, c.agent_id) IN (SELECT tenant_id, agent_id FROM old_rows)
          AND NOT EXISTS (SELECT 1 FROM agents a WHERE a.tenant_id = c.tenant_id
                                                   AND a.id = c.agent_id);
    END IF;
    RETURN NULL;
END
$$;

-- No writer may slip between the backfill and the triggers: both happen under this lock
-- (it lets readers through and waits for writers in flight to commit).
LOCK TABLE leads, bookings IN SHARE ROW EXCLUSIVE MODE;

CREATE TRIGGER stats_count_leads_ins AFTER INSERT ON leads
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION stats_count_leads();
CREATE TRIGGER stats_count_leads_upd AFTER UPDATE ON leads
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stats_count_leads();
CREATE TRIGGER stats_count_leads_del AFTER DELETE ON leads
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION stats_count_leads();

CREATE TRIGGER stats_count_bookings_ins AFTER INSERT ON bookings
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION stats_count_bookings();
CREATE TRIGGER stats_count_bookings_upd AFTER UPDATE ON bookings
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stats_count_bookings();
CREATE TRIGGER stats_count_bookings_del AFTER DELETE ON bookings
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION stats_count_bookings();

INSERT INTO stats_lead_counts (tenant_id, agent_id, shard, n)
SELECT tenant_id, agent_id, 0, count(*) FROM leads GROUP BY 1, 2;
INSERT INTO stats_booking_counts (tenant_id, agent_id, status, shard, n)
SELECT tenant_id, agent_id, status, 0, count(*) FROM bookings GROUP BY 1, 2, 3;

-- "upcoming" = PENDING minus the PENDING bookings whose time has come (scheduled_at <= now();
-- such a booking is either started or expired, as expires_at > scheduled_at). Those are few:
-- the sweep turns them EXPIRED at most link_expiry_hours later. Per agent: filtered from the
-- INCLUDE column in the same index-only scan. (The open bookings already past expires_at
-- come from bookings_tenant_stats / bookings_tenant_agent_stats of 001.)
CREATE INDEX bookings_pending_due ON bookings (tenant_id, scheduled_at) INCLUDE (agent_id)
    WHERE status = 'PENDING';
