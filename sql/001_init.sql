-- 001_init: the leadbook schema (tenants, api keys, agents, leads, bookings, booking history).
--
-- Applied once by `leadbookctl migrate` inside one transaction; a migration file must not
-- contain BEGIN/COMMIT of its own. Never edit this file once released: migrate refuses a
-- changed checksum. Changes go in 002_..., 003_...
--
-- Tenancy: every child table carries tenant_id, and every foreign key between tenant data
-- includes it (composite keys against UNIQUE (tenant_id, id)), so the database itself refuses
-- a lead pointing at another tenant's agent, a booking at another tenant's lead, and so on.
-- Every index used by the API starts with tenant_id, so no query reads another tenant's rows.

-- The ledger is also created by leadbookctl before it reads it (it must exist to know whether
-- this file ran); IF NOT EXISTS keeps both definitions in step.
CREATE TABLE IF NOT EXISTS schema_migrations (
    filename   text PRIMARY KEY,
    checksum   text NOT NULL,                -- SHA-256 of the file, lowercase hex
    applied_at timestamptz NOT NULL DEFAULT now()
);

CREATE TYPE booking_status AS ENUM ('PENDING', 'CONFIRMED', 'COMPLETED', 'EXPIRED', 'CANCELLED');

CREATE TABLE tenants (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name       text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    user_id    text UNIQUE CHECK (char_length(user_id) BETWEEN 1 AND 200), -- external identity
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    key_hash   bytea NOT NULL CHECK (octet_length(key_hash) = 32), -- SHA-256 of the key text
    label      text NOT NULL DEFAULT '' CHECK (char_length(label) <= 200),
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz,
    UNIQUE (tenant_id, id)
);
CREATE UNIQUE INDEX api_keys_key_hash ON api_keys (key_hash);
CREATE INDEX api_keys_tenant_created ON api_keys (tenant_id, created_at DESC, id DESC);

CREATE TABLE agents (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id         uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name              text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    knowledge         text NOT NULL CHECK (char_length(knowledge) >= 10),
    public_link       uuid NOT NULL DEFAULT gen_random_uuid(),
    link_expiry_hours integer NOT NULL DEFAULT 24 CHECK (link_expiry_hours BETWEEN 1 AND 168),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, id)
);
CREATE UNIQUE INDEX agents_public_link ON agents (public_link);
CREATE INDEX agents_tenant_created ON agents (tenant_id, created_at DESC, id DESC);

CREATE TABLE leads (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id  uuid NOT NULL,
    agent_id   uuid NOT NULL,
    name       text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    email      text NOT NULL CHECK (char_length(email) BETWEEN 1 AND 254),
    booked_at  timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, agent_id) REFERENCES agents (tenant_id, id) ON DELETE CASCADE
);
-- GET /leads (newest first, keyset on (created_at, id)) and its per-agent variant; the second
-- also serves the cascade from agents and the per-agent lead count of the statistics.
CREATE INDEX leads_tenant_created ON leads (tenant_id, created_at DESC, id DESC);
CREATE INDEX leads_tenant_agent_created ON leads (tenant_id, agent_id, created_at DESC, id DESC);

CREATE TABLE bookings (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id     uuid NOT NULL,
    lead_id       uuid NOT NULL,
    agent_id      uuid NOT NULL,
    scheduled_at  timestamptz NOT NULL,
    status        booking_status NOT NULL DEFAULT 'PENDING',
    expires_at    timestamptz NOT NULL,
    meeting_token uuid NOT NULL DEFAULT gen_random_uuid(),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, id),
    CHECK (expires_at > scheduled_at), -- link_expiry_hours >= 1
    FOREIGN KEY (tenant_id, lead_id) REFERENCES leads (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, agent_id) REFERENCES agents (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX bookings_meeting_token ON bookings (meeting_token);
-- A lead's bookings, oldest first (list/get of leads), and the cascade from leads.
CREATE INDEX bookings_tenant_lead_created ON bookings (tenant_id, lead_id, created_at, id);
-- Statistics (index-only scans: every column they read is in the index), per tenant and per
-- agent; the second also serves the cascade from agents.
CREATE INDEX bookings_tenant_stats ON bookings (tenant_id, status, expires_at, scheduled_at);
CREATE INDEX bookings_tenant_agent_stats
    ON bookings (tenant_id, agent_id, status, expires_at, scheduled_at);
-- `leadbookctl expire` runs across tenants: only the still-open bookings, by expiry.
CREATE INDEX bookings_open_expires ON bookings (expires_at)
    WHERE status IN ('PENDING', 'CONFIRMED');

-- Allowed status changes, enforced here as well as in the store (defence in depth):
-- PENDING -> CONFIRMED | COMPLETED | CANCELLED | EXPIRED; CONFIRMED -> COMPLETED | CANCELLED |
-- EXPIRED; COMPLETED, CANCELLED and EXPIRED are final.
CREATE FUNCTION bookings_check_transition() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status IS DISTINCT FROM OLD.status AND NOT (
           (OLD.status = 'PENDING' AND NEW.status IN ('CONFIRMED', 'COMPLETED', 'CANCELLED', 'EXPIRED'))
        OR (OLD.status = 'CONFIRMED' AND NEW.status IN ('COMPLETED', 'CANCELLED', 'EXPIRED'))) THEN
        RAISE EXCEPTION 'booking % cannot change from % to %', OLD.id, OLD.status, NEW.status
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER bookings_check_transition BEFORE UPDATE OF status ON bookings
    FOR EACH ROW EXECUTE FUNCTION bookings_check_transition();

-- The history of every booking status change (creation included: from_status NULL).
-- seq orders the rows of one booking in the order the changes were applied: it is drawn while
-- the booking row is locked, whereas changed_at is the transaction's start time (it equals the
-- booking's updated_at) and two serialised transactions may have started in either order.
CREATE TABLE booking_events (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    seq         bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    tenant_id   uuid NOT NULL,
    booking_id  uuid NOT NULL,
    from_status booking_status,
    to_status   booking_status NOT NULL,
    changed_at  timestamptz NOT NULL DEFAULT now(),
    key_id      uuid, -- the API key that made the change; NULL for the operator (expire)
    CHECK (from_status IS DISTINCT FROM to_status),
    FOREIGN KEY (tenant_id, booking_id) REFERENCES bookings (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, key_id) REFERENCES api_keys (tenant_id, id)
);
CREATE INDEX booking_events_tenant_booking ON booking_events (tenant_id, booking_id, seq);

-- Append-only: an UPDATE is always refused. A DELETE is refused while the booking still
-- exists, so history can never be rewritten or trimmed; it is allowed once the booking itself
-- is gone, which is what the ON DELETE CASCADE above does when an agent (and with it its leads
-- and bookings) is deleted: the history goes with the data it describes, never without it.
-- (The cascade runs after the booking row is deleted, so the NOT EXISTS test sees it gone.)
CREATE FUNCTION booking_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND NOT EXISTS (SELECT 1 FROM bookings b WHERE b.id = OLD.booking_id) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'booking_events is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER booking_events_append_only BEFORE UPDATE OR DELETE ON booking_events
    FOR EACH ROW EXECUTE FUNCTION booking_events_append_only();

CREATE FUNCTION booking_events_no_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'booking_events is append-only (TRUNCATE refused)'
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER booking_events_no_truncate BEFORE TRUNCATE ON booking_events
    FOR EACH STATEMENT EXECUTE FUNCTION booking_events_no_truncate();
