-- 006_write_path: less work for the database per write (issue 15). Measured in t/bench
-- (results.md, "write path"): the figures behind each change are there.
--
-- Applied by `leadbookctl migrate` inside one transaction (no BEGIN/COMMIT here). Never edit
-- once released (migrate refuses a changed checksum).
--
-- 1. Statistics counters (sql/002) written by the writing statement itself. The store's
--    statements that insert leads and bookings or change a booking's status upsert their own
--    counter rows in a CTE (store/leads.c, bookings.c, booking_changes.c: one row, no
--    aggregate, no trigger call), and mark the transaction with the start time of the
--    statement: set_config('leadbook.counted', statement_timestamp()::text, true). The insert
--    and update statement triggers of 002 stay for every other writer (bulk SQL, an operator's
--    fix, a test), but their WHEN skips them for a statement that carries the mark, so no
--    statement is counted twice and none is missed. The delete triggers of 002 are unchanged
--    (cascades and batch deletes count through them as before).
--    Statement triggers fire at the end of the statement, after every CTE of it has run, so
--    the mark set by the statement's first CTE is always seen; a later statement of the same
--    transaction has another statement_timestamp() and is counted by the triggers again.
-- 2. Primary keys (tenant_id, id) on leads and bookings instead of a primary key on id beside
--    a unique (tenant_id, id): one index less on each table. Every statement already names a
--    lead or booking by (tenant_id, id); the composite foreign keys now use the primary keys.
-- 3. Booking indexes: the statistics' two wide indexes of 001 (bookings_tenant_stats,
--    bookings_tenant_agent_stats) and 002's bookings_pending_due become one partial index of
--    the open bookings (the counters answer the rest), plus a narrow (tenant_id, agent_id) for
--    the batches that delete a deleted agent's bookings. 8 indexes on bookings become 6, two
--    of them partial (a final booking is in neither).
-- 4. booking_events: its UNIQUE (seq) is dropped (seq is an identity: unique by construction,
--    and only ever read through booking_events_tenant_booking).
-- 5. bookings_check_transition (001) runs its function only for a change that is refused:
--    the allowed transitions are the trigger's WHEN, evaluated without a PL/pgSQL call.

-- Writers wait here (readers go on) so that nothing is half counted while triggers change.
LOCK TABLE leads, bookings IN SHARE ROW EXCLUSIVE MODE;

-- 1. --------------------------------------------------------------------------------------
DROP TRIGGER stats_count_leads_ins ON leads;
DROP TRIGGER stats_count_leads_upd ON leads;
DROP TRIGGER stats_count_bookings_ins ON bookings;
DROP TRIGGER stats_count_bookings_upd ON bookings;

CREATE TRIGGER stats_count_leads_ins AFTER INSERT ON leads
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    WHEN (current_setting('leadbook.counted', true) IS DISTINCT FROM statement_timestamp()::text)
    EXECUTE FUNCTION stats_count_leads();
CREATE TRIGGER stats_count_leads_upd AFTER UPDATE ON leads
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    WHEN (current_setting('leadbook.counted', true) IS DISTINCT FROM statement_timestamp()::text)
    EXECUTE FUNCTION stats_count_leads();
CREATE TRIGGER stats_count_bookings_ins AFTER INSERT ON bookings
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    WHEN (current_setting('leadbook.counted', true) IS DISTINCT FROM statement_timestamp()::text)
    EXECUTE FUNCTION stats_count_bookings();
CREATE TRIGGER stats_count_bookings_upd AFTER UPDATE ON bookings
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    WHEN (current_setting('leadbook.counted', true) IS DISTINCT FROM statement_timestamp()::text)
    EXECUTE FUNCTION stats_count_bookings();

-- 2. --------------------------------------------------------------------------------------
-- The foreign keys that use the unique constraints go first and come back on the new keys.
ALTER TABLE booking_events DROP CONSTRAINT booking_events_tenant_id_booking_id_fkey;
ALTER TABLE bookings DROP CONSTRAINT bookings_tenant_id_lead_id_fkey;

ALTER TABLE leads DROP CONSTRAINT leads_pkey, DROP CONSTRAINT leads_tenant_id_id_key,
    ADD CONSTRAINT leads_pkey PRIMARY KEY (tenant_id, id);
ALTER TABLE bookings DROP CONSTRAINT bookings_pkey, DROP CONSTRAINT bookings_tenant_id_id_key,
    ADD CONSTRAINT bookings_pkey PRIMARY KEY (tenant_id, id);

ALTER TABLE bookings ADD CONSTRAINT bookings_tenant_id_lead_id_fkey
    FOREIGN KEY (tenant_id, lead_id) REFERENCES leads (tenant_id, id) ON DELETE CASCADE;
ALTER TABLE booking_events ADD CONSTRAINT booking_events_tenant_id_booking_id_fkey
    FOREIGN KEY (tenant_id, booking_id) REFERENCES bookings (tenant_id, id) ON DELETE CASCADE;

-- The append-only guard of 001 looked the booking up by id alone: now by its key.
CREATE OR REPLACE FUNCTION booking_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND NOT EXISTS (SELECT 1 FROM bookings b
                                        WHERE b.tenant_id = OLD.tenant_id
                                          AND b.id = OLD.booking_id) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'booking_events is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

-- 3. --------------------------------------------------------------------------------------
-- The open bookings of a tenant by scheduled_at. The statistics read from it only what the
-- counters cannot know (sql/002): the PENDING ones whose time has come, and the open ones past
-- expires_at (expires_at > scheduled_at, so those are also past scheduled_at); both are
-- bounded by the expiry sweep. agent_id, status and expires_at are carried for index-only
-- scans.
CREATE INDEX bookings_open_due ON bookings (tenant_id, scheduled_at)
    INCLUDE (agent_id, status, expires_at) WHERE status IN ('PENDING', 'CONFIRMED');
-- A deleted agent's bookings, found by the purge batches (sql/007) and by the cascade from
-- agents while that foreign key exists.
CREATE INDEX bookings_tenant_agent ON bookings (tenant_id, agent_id);
DROP INDEX bookings_tenant_stats;
DROP INDEX bookings_tenant_agent_stats;
DROP INDEX bookings_pending_due;

-- 4. --------------------------------------------------------------------------------------
ALTER TABLE booking_events DROP CONSTRAINT booking_events_seq_key;

-- 5. --------------------------------------------------------------------------------------
DROP TRIGGER bookings_check_transition ON bookings;
CREATE TRIGGER bookings_check_transition BEFORE UPDATE OF status ON bookings
    FOR EACH ROW
    WHEN (NOT (OLD.status IS NOT DISTINCT FROM NEW.status
               OR (OLD.status = 'PENDING'
                   AND NEW.status IN ('CONFIRMED', 'COMPLETED', 'CANCELLED', 'EXPIRED'))
               OR (OLD.status = 'CONFIRMED'
                   AND NEW.status IN ('COMPLETED', 'CANCELLED', 'EXPIRED'))))
    EXECUTE FUNCTION bookings_check_transition();
