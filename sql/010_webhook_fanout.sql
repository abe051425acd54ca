-- 010_webhook_fanout: a change with a webhook writes its event only; the deliverer writes the
-- deliveries (issue 18: the delivery row, with its five indexes and two foreign keys, written
-- by the change itself cost a POST /leads with one subscribed endpoint about a fifth of the
-- statement's database time, t/bench/results-floor-webhooks.md).
--
-- The outbox is still written in the very transaction of the change (the event row, with its
-- payload built then, from the rows the change wrote): nothing acknowledged goes unannounced,
-- nothing is announced that did not commit. What moves is the fan-out: one pending delivery per
-- enabled endpoint of the tenant subscribed to the event's type (and created no later than the
-- event) is written by the deliverer (whd_fanout in src/store/webhook_deliveries.c), in order of
-- the writing transactions, from a cursor:
--
-- * webhook_events.txid: the writing transaction's id (pg_current_xact_id()). Rows from before
--   this migration have none: their deliveries were written with them.
-- * webhook_fanout.next_txid: every event of a transaction below it has had its deliveries
--   written. The fan-out takes the events from next_txid up to (not including) the xmin of its
--   own snapshot: every transaction below that xmin has ended, so every event of those that
--   committed is visible to it, and none can still appear there. It then moves the cursor up,
--   in the same statement. A transaction still open holds the cursor back (its events wait, and
--   so do later ones), it never makes the fan-out skip one. The row is locked FOR UPDATE SKIP
--   LOCKED: one deliverer fans out at a time, the others go on delivering.
--
-- The wake-up rule (008) becomes: NOTIFY only when no event is waiting for its fan-out (a
-- deliverer that has one to take is awake, or will look again within its busy poll), and one
-- notifying transaction at a time (the same advisory lock). The same rule is in
-- src/store/sqloutbox.h for the statements that write their own event.

ALTER TABLE webhook_events ADD COLUMN txid xid8;
ALTER TABLE webhook_events ALTER COLUMN txid SET DEFAULT pg_current_xact_id();
CREATE INDEX webhook_events_txid ON webhook_events (txid);

CREATE TABLE webhook_fanout (
    one       boolean PRIMARY KEY DEFAULT true CHECK (one), -- a single row
    next_txid xid8 NOT NULL
);
-- Every transaction below this statement's xmin has ended, and its events (if any) came with
-- their deliveries (the old trigger); every later one will write txid.
INSERT INTO webhook_fanout (next_txid) VALUES (pg_snapshot_xmin(pg_current_snapshot()));

CREATE OR REPLACE FUNCTION webhook_outbox() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    etype text;
    ev_id uuid;
    body  text;
    wake  boolean;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM webhook_endpoints w
                   WHERE w.tenant_id = NEW.tenant_id AND w.enabled) THEN
        RETURN NULL; -- the common case: nobody listens, nothing to write
    END IF;
    etype := CASE WHEN NEW.kind = 'rescheduled' THEN 'booking.rescheduled'
                  WHEN NEW.from_status IS NULL THEN 'booking.created'
                  ELSE 'booking.status_changed' END;
    IF NOT EXISTS (SELECT 1 FROM webhook_endpoints w
                   WHERE w.tenant_id = NEW.tenant_id AND w.enabled AND etype = ANY (w.events)) THEN
        RETURN NULL;
    END IF;
    ev_id := gen_random_uuid();
    SELECT json_build_object(
               'id', ev_id,
               'type', etype,
               'createdAt', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
               'data', json_build_object(
                   'booking', json_build_object(
                       'id', b.id, 'leadId', b.lead_id, 'agentId', b.agent_id,
                       'tenantId', b.tenant_id,
                       'scheduledAt', to_char(b.scheduled_at AT TIME ZONE 'UTC',
                                              'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                       'status', b.status,
                       'expiresAt', to_char(b.expires_at AT TIME ZONE 'UTC',
                                            'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                       'meetingToken', b.meeting_token,
                       'createdAt', to_char(b.created_at AT TIME ZONE 'UTC',
                                            'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                       'updatedAt', to_char(b.updated_at AT TIME ZONE 'UTC',
                                            'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
                   'lead', json_build_object('id', l.id, 'name', l.name, 'email', l.email),
                   'agent', json_build_object('id', a.id, 'name', a.name),
                   'previous', CASE
                       WHEN NEW.kind = 'rescheduled' THEN json_build_object(
                           'scheduledAt', to_char(NEW.from_scheduled_at AT TIME ZONE 'UTC',
                                                  'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
                       WHEN NEW.from_status IS NOT NULL THEN
                           json_build_object('status', NEW.from_status)
                       ELSE NULL END))::text
    INTO body
    FROM bookings b
    JOIN leads l ON l.tenant_id = b.tenant_id AND l.id = b.lead_id
    JOIN agents a ON a.tenant_id = b.tenant_id AND a.id = b.agent_id
    WHERE b.tenant_id = NEW.tenant_id AND b.id = NEW.booking_id;
    IF body IS NULL THEN
        RETURN NULL;
    END IF;
    -- Read before this transaction's own event is written: the deliverers are awake while an
    -- event waits for its fan-out. One notifying transaction at a time.
    wake := false;
    IF NOT EXISTS (SELECT 1 FROM webhook_events e, webhook_fanout f
                   WHERE e.txid >= f.next_txid) THEN
        wake := pg_try_advisory_xact_lock(1818392424, 2002873189);
    END IF;
    INSERT INTO webhook_events (id, tenant_id, type, payload) VALUES (ev_id, NEW.tenant_id, etype, body);
    IF wake THEN
        PERFORM pg_notify('leadbook_webhooks', '');
    END IF;
    RETURN NULL;
END
$$;
