-- 007_agent_delete: deleting an agent with any number of leads (issue: 1,000,000 of them) within
-- the request bounds. Until now DELETE /agents/:id cascaded to every lead, booking and history
-- row of the agent in the request's one statement, which for 250,000 leads outlasted the
-- statement timeout on every try.
--
-- Now the agent row goes at once, and its leads (with their bookings and history, by the
-- cascades of 001) go afterwards, in batches, by `leadbookctl purge` (the expiry timer runs it
-- every minute; several hosts may run it at once):
--   * the two foreign keys from leads and bookings to agents are dropped: they are what made
--     the cascade run inside the DELETE. A check trigger (below) keeps what they guarded on
--     writes: the agent exists and is the row's tenant's;
--   * a statement trigger on agents records every deleted agent in agent_deletions (whoever
--     deletes it: DELETE /agents/:id, or the cascade from a deleted tenant) and drops its
--     statistics counters in the same transaction;
--   * nothing of a deleted agent is visible meanwhile: every statement that reads leads or
--     bookings either joins the agent (the meeting page, the changes by meeting token, the
--     reschedule) or excludes the agents of agent_deletions (the lead list and its statistics:
--     one probe of this small table per statement, not per row), or tests that the agent
--     exists (one lead, one booking's status change or history, the expiry sweep);
--   * a deletion record outlives the agent's last lead by an hour: a write that read the agent
--     just before it was deleted may commit just after (every statement is bounded by the
--     statement timeout), and its lead is then still found and deleted by the next batches.

CREATE TABLE agent_deletions (
    tenant_id  uuid NOT NULL,
    agent_id   uuid NOT NULL,
    deleted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, agent_id)
);

ALTER TABLE leads DROP CONSTRAINT leads_tenant_id_agent_id_fkey;
ALTER TABLE bookings DROP CONSTRAINT bookings_tenant_id_agent_id_fkey;

CREATE FUNCTION agents_record_deletion() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO agent_deletions (tenant_id, agent_id)
    SELECT tenant_id, id FROM old_rows ORDER BY 1, 2
    ON CONFLICT DO NOTHING;
    DELETE FROM stats_lead_counts c USING old_rows o
    WHERE c.tenant_id = o.tenant_id AND c.agent_id = o.id;
    DELETE FROM stats_booking_counts c USING old_rows o
    WHERE c.tenant_id = o.tenant_id AND c.agent_id = o.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER agents_record_deletion AFTER DELETE ON agents
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION agents_record_deletion();

-- What the dropped foreign keys also guarded, kept as a check: a lead's or booking's agent is
-- one of its own tenant's (no lead of tenant B may name tenant A's agent, whoever writes it).
-- A probe of agents' (tenant_id, id) key, without the row lock the foreign key took (FOR KEY
-- SHARE: every concurrent POST for one agent locked that one row).
CREATE FUNCTION agent_in_tenant() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM agents a WHERE a.tenant_id = NEW.tenant_id AND a.id = NEW.agent_id) THEN
        RAISE EXCEPTION 'agent % is not an agent of tenant %', NEW.agent_id, NEW.tenant_id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER leads_agent_in_tenant BEFORE INSERT OR UPDATE OF tenant_id, agent_id ON leads
    FOR EACH ROW EXECUTE FUNCTION agent_in_tenant();
CREATE TRIGGER bookings_agent_in_tenant BEFORE INSERT OR UPDATE OF tenant_id, agent_id ON bookings
    FOR EACH ROW EXECUTE FUNCTION agent_in_tenant();
