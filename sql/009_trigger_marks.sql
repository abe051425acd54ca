-- 009_trigger_marks: three row triggers that leadbookd's own writing statements make redundant
-- are skipped for those statements, as 006 skips the counting triggers (issue 15: each costs a
-- PL/pgSQL call and a query of its own per row; together about as much as the row's insert).
--
-- 1. agent_in_tenant (007) on leads and bookings. A statement that carries the counted mark
--    (leadbook.counted = its own start time, src/store/sqlcount.h) takes the lead's and the
--    booking's (tenant_id, agent_id) from the agents row it has just read with the tenant's key
--    in the same snapshot as the trigger's probe would: the probe would find that very row.
--    Every other writer (bulk SQL, an operator) is still checked.
-- 2. webhook_outbox (005, 008) on booking_events. A statement that has found no enabled
--    endpoint of the tenant (SQL_QUIET in src/store/sqlcount.h: a probe of the partial index
--    webhook_endpoints_tenant_enabled, in SQL, no PL/pgSQL call) sets leadbook.quiet to its
--    own start time; the trigger's first query would have found nothing and returned. An
--    endpoint created while such a statement runs is as concurrent with its change as one
--    created a moment later: the outbox promises events for changes made while an endpoint
--    exists, and that is what each side of the race sees. Every other writer (the expiry
--    sweep, bulk SQL) still goes through the trigger.
-- The marks are transaction-local settings (set_config(..., true)) compared with the statement's
-- start time, so a mark never outlives the statement that set it.

DROP TRIGGER leads_agent_in_tenant ON leads;
CREATE TRIGGER leads_agent_in_tenant BEFORE INSERT OR UPDATE OF tenant_id, agent_id ON leads
    FOR EACH ROW
    WHEN (current_setting('leadbook.counted', true) IS DISTINCT FROM statement_timestamp()::text)
    EXECUTE FUNCTION agent_in_tenant();
DROP TRIGGER bookings_agent_in_tenant ON bookings;
CREATE TRIGGER bookings_agent_in_tenant BEFORE INSERT OR UPDATE OF tenant_id, agent_id ON bookings
    FOR EACH ROW
    WHEN (current_setting('leadbook.counted', true) IS DISTINCT FROM statement_timestamp()::text)
    EXECUTE FUNCTION agent_in_tenant();

DROP TRIGGER webhook_outbox ON booking_events;
CREATE TRIGGER webhook_outbox AFTER INSERT ON booking_events
    FOR EACH ROW
    WHEN (current_setting('leadbook.quiet', true) IS DISTINCT FROM statement_timestamp()::text)
    EXECUTE FUNCTION webhook_outbox();
