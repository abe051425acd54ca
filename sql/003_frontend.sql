-- 003_frontend: what serving the web frontend needs (API.md "Credentials and tenancy").
--
-- * Booking-page keys: an API key that belongs to no tenant (scope 'booking_page'); a tenant
--   key keeps its tenant (scope 'tenant'). The pairing is a CHECK, so no key can be both or
--   neither.
-- * Revocation however it happens: every UPDATE or DELETE of a key (leadbookctl, plain SQL,
--   or the cascade from deleting its tenant) notifies the workers on leadbook_keys with the
--   key id, in the same transaction, so it reaches them only if it commits. Deleting a tenant,
--   or changing its user_id, notifies 'tenant:<id>' (signed-in users are mapped to tenants by
--   user_id in the workers' caches).
-- * Who made a change: booking_events.actor ('key', 'user', 'prospect', 'system') and
--   actor_id (the key's id, the user's `sub`, or NULL). The history keeps naming a key after
--   the key is deleted, so key_id no longer references api_keys (the foreign key made
--   deleting a key that had ever booked anything fail).
-- * user_id is the identity provider's `sub`: up to 255 characters (API.md), not 200.

ALTER TABLE tenants DROP CONSTRAINT tenants_user_id_check;
ALTER TABLE tenants ADD CONSTRAINT tenants_user_id_check
    CHECK (char_length(user_id) BETWEEN 1 AND 255);

ALTER TABLE api_keys ALTER COLUMN tenant_id DROP NOT NULL;
ALTER TABLE api_keys ADD COLUMN scope text NOT NULL DEFAULT 'tenant'
    CHECK (scope IN ('tenant', 'booking_page'));
ALTER TABLE api_keys ADD CONSTRAINT api_keys_scope_tenant
    CHECK ((scope = 'tenant') = (tenant_id IS NOT NULL));
CREATE INDEX api_keys_booking_page_created ON api_keys (created_at DESC, id DESC)
    WHERE scope = 'booking_page';

CREATE FUNCTION api_keys_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('leadbook_keys', OLD.id::text);
    RETURN NULL;
END
$$;
CREATE TRIGGER api_keys_notify AFTER UPDATE OR DELETE ON api_keys
    FOR EACH ROW EXECUTE FUNCTION api_keys_notify();

CREATE FUNCTION tenants_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('leadbook_keys', 'tenant:' || OLD.id::text);
    RETURN NULL;
END
$$;
CREATE TRIGGER tenants_notify AFTER DELETE OR UPDATE OF user_id ON tenants
    FOR EACH ROW EXECUTE FUNCTION tenants_notify();

-- TRUNCATE fires no row trigger: tell the workers to forget every key.
CREATE FUNCTION api_keys_notify_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('leadbook_keys', 'all');
    RETURN NULL;
END
$$;
CREATE TRIGGER api_keys_notify_truncate AFTER TRUNCATE ON api_keys
    FOR EACH STATEMENT EXECUTE FUNCTION api_keys_notify_truncate();
CREATE TRIGGER tenants_notify_truncate AFTER TRUNCATE ON tenants
    FOR EACH STATEMENT EXECUTE FUNCTION api_keys_notify_truncate();

ALTER TABLE booking_events DROP CONSTRAINT booking_events_tenant_id_key_id_fkey;
ALTER TABLE booking_events ADD COLUMN actor text
    CHECK (actor IN ('key', 'user', 'prospect', 'system'));
ALTER TABLE booking_events ADD COLUMN actor_id text CHECK (char_length(actor_id) BETWEEN 1 AND 255);
-- The history is append-only (001); this one backfill is the migration's, not a rewrite.
ALTER TABLE booking_events DISABLE TRIGGER booking_events_append_only;
UPDATE booking_events SET actor = CASE WHEN key_id IS NULL THEN 'system' ELSE 'key' END,
                          actor_id = key_id::text;
ALTER TABLE booking_events ENABLE TRIGGER booking_events_append_only;
ALTER TABLE booking_events ALTER COLUMN actor SET NOT NULL;
ALTER TABLE booking_events ADD CONSTRAINT booking_events_actor_id
    CHECK ((actor IN ('key', 'user')) = (actor_id IS NOT NULL));
