-- 005_webhooks: a tenant's systems hear about its bookings (API.md "Webhooks").
--
-- * webhook_endpoints: a tenant's receivers. secret is the signing secret (whsec_ + base64 of
--   32 random bytes), kept readable because the deliverer signs with it (as Stripe and the
--   Standard Webhooks reference do); previous_secret signs too until previous_secret_expires_at
--   (24 h after a rotation). failing_since: the first failure of the current run of failures
--   (an endpoint failing for five days in a row is disabled; any success clears it).
-- * webhook_events: the outbox. One row per event, written by a trigger on booking_events, so in
--   the very transaction of the change it announces (creation, status change, reschedule, the
--   expiry sweep): nothing acknowledged goes unannounced, nothing is announced that did not
--   commit. payload is the JSON body sent, built once. Only events some enabled endpoint of the
--   tenant subscribed to are written.
-- * webhook_deliveries: one row per attempt. The deliverer claims due pending rows with
--   FOR UPDATE SKIP LOCKED (several deliverers on several hosts share the work), marks the
--   attempt delivered or failed, and for a failure inserts the next attempt (attempt + 1,
--   next_attempt_at by the back-off schedule) until the schedule is exhausted.
--   pg_notify('leadbook_webhooks') on every new pending row wakes the deliverers.

CREATE TABLE webhook_endpoints (
    id                         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id                  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    url                        text NOT NULL CHECK (char_length(url) BETWEEN 1 AND 2048),
    events                     text[] NOT NULL CHECK (cardinality(events) >= 1 AND events <@
                                   ARRAY['booking.created', 'booking.status_changed',
                                         'booking.rescheduled']),
    description                text NOT NULL DEFAULT '' CHECK (char_length(description) <= 500),
    secret                     text NOT NULL CHECK (secret LIKE 'whsec\_%'),
    previous_secret            text CHECK (previous_secret LIKE 'whsec\_%'),
    previous_secret_expires_at timestamptz,
    enabled                    boolean NOT NULL DEFAULT true,
    disabled_reason            text,
    failing_since              timestamptz,
    created_at                 timestamptz NOT NULL DEFAULT now(),
    updated_at                 timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, id)
);
CREATE INDEX webhook_endpoints_tenant_created
    ON webhook_endpoints (tenant_id, created_at DESC, id DESC);
CREATE INDEX webhook_endpoints_tenant_enabled ON webhook_endpoints (tenant_id) WHERE enabled;

CREATE TABLE webhook_events (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(), -- the webhook-id header
    tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    type       text NOT NULL CHECK (type IN ('booking.created', 'booking.status_changed',
                                             'booking.rescheduled')),
    payload    text NOT NULL, -- the request body, byte for byte the same on every attempt
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_events_created ON webhook_events (created_at);

CREATE TABLE webhook_deliveries (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id       uuid NOT NULL,
    endpoint_id     uuid NOT NULL,
    event_id        uuid NOT NULL REFERENCES webhook_events (id) ON DELETE CASCADE,
    attempt         integer NOT NULL DEFAULT 1 CHECK (attempt >= 1),
    status          text NOT NULL DEFAULT 'pending'
                        CHECK (status IN ('pending', 'delivered', 'failed')),
    response_status integer,
    error           text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    next_attempt_at timestamptz DEFAULT now(), -- pending: when it is due; failed: the retry's
    delivered_at    timestamptz,
    FOREIGN KEY (tenant_id, endpoint_id) REFERENCES webhook_endpoints (tenant_id, id)
        ON DELETE CASCADE
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint
    ON webhook_deliveries (tenant_id, endpoint_id, created_at DESC, id DESC);
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id);
-- leadbookctl purge (attempts older than 30 days): insert-ordered, so a BRIN index will do.
CREATE INDEX webhook_deliveries_created ON webhook_deliveries USING brin (created_at);

-- The outbox writer: one event per booking_events row that some enabled endpoint wants, and one
-- pending delivery per such endpoint. The body is the Standard Webhooks envelope API.md gives:
-- {"id","type","createdAt","data":{"booking","lead","agent","previous"}}.
CREATE FUNCTION webhook_outbox() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    etype text;
    ev_id uuid;
    body  text;
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
    INSERT INTO webhook_events (id, tenant_id, type, payload) VALUES (ev_id, NEW.tenant_id, etype, body);
    INSERT INTO webhook_deliveries (tenant_id, endpoint_id, event_id)
    SELECT w.tenant_id, w.id, ev_id FROM webhook_endpoints w
    WHERE w.tenant_id = NEW.tenant_id AND w.enabled AND etype = ANY (w.events);
    PERFORM pg_notify('leadbook_webhooks', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER webhook_outbox AFTER INSERT ON booking_events
    FOR EACH ROW EXECUTE FUNCTION webhook_outbox();
