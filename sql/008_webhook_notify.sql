-- 008_webhook_notify: the outbox trigger (005) no longer sends a NOTIFY with every event.
--
-- A transaction that has sent a NOTIFY takes a database-wide lock at commit and keeps it until
-- its commit is flushed (PostgreSQL's notification queue: "PreCommit_Notify"), so with one
-- NOTIFY per booking change every write of every tenant with a webhook committed one after the
-- other, each waiting for the previous one's WAL flush: no group commit. t/bench/run --only
-- wh_pairs measured POST /leads with one subscribed endpoint at 40-60 % of the rate without
-- (t/bench/results-pairs.md, issue 18).
--
-- Now the trigger sends it only when no due, unclaimed delivery exists (the deliverers may be
-- asleep), and only one transaction at a time: the one that gets a transaction-scoped advisory
-- lock without waiting (the two-key form, a key space of its own: 0x6c627768 "lbwh",
-- 0x77616b65 "wake"); the others, committing meanwhile, leave the wake-up to it. An event that
-- woke nobody is still taken soon: a deliverer claims until nothing is due, looks again within
-- LB_WEBHOOK_BUSY_POLL_MS (300 ms) after any pass that delivered something (the one the
-- notifying transaction's event started), and otherwise polls every LB_WEBHOOK_POLL_MS (5 s,
-- src/webhook_deliver.h: the bound when the notifying transaction itself rolled back). Under
-- load almost no transaction notifies, and those that do are never more than one at a time.

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
    -- A deliverer that has a due, unclaimed delivery to take is awake (it claims until none is
    -- left, and looks again shortly after a busy pass): no need to wake it. Read before this
    -- transaction's own deliveries are written. And one notifying transaction at a time: the
    -- NOTIFY of the one holding the lock wakes the deliverers for the others too.
    wake := false;
    IF NOT EXISTS (SELECT 1 FROM webhook_deliveries d
                   WHERE d.status = 'pending' AND d.next_attempt_at <= now()) THEN
        wake := pg_try_advisory_xact_lock(1818392424, 2002873189);
    END IF;
    INSERT INTO webhook_events (id, tenant_id, type, payload) VALUES (ev_id, NEW.tenant_id, etype, body);
    INSERT INTO webhook_deliveries (tenant_id, endpoint_id, event_id)
    SELECT w.tenant_id, w.id, ev_id FROM webhook_endpoints w
    WHERE w.tenant_id = NEW.tenant_id AND w.enabled AND etype = ANY (w.events);
    IF wake THEN
        PERFORM pg_notify('leadbook_webhooks', '');
    END IF;
    RETURN NULL;
END
$$;
