-- post_leads.lua: POST /leads with a unique body per request (thread index + counter in the name
-- and the e-mail), agent BENCH_AGENT, scheduledAt BENCH_WHEN (in the future).
-- BENCH_IDEM=1: every request also carries an Idempotency-Key of its own, UUID-shaped as a
-- browser's (API.md): a random first group (keys land all over the index, as random UUIDs do),
-- then this wrk process's start time, the run, the thread and the counter, which make it unique,
-- so every request is a first one (stored, never replayed). BENCH_IDEM=0: the same requests
-- without the header. Either way the body also names the side (unset: as before).
local c = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
setup = c.setup
local headers, agent, when
local n = 0
local run = os.getenv("BENCH_RUN") or "0"
local idem = os.getenv("BENCH_IDEM")
local tag = idem and (run .. "." .. idem) or run
local nonce = os.time() % 65536

function init(args)
    headers = c.headers({["Content-Type"] = "application/json"})
    agent = os.getenv("BENCH_AGENT")
    when = os.getenv("BENCH_WHEN")
    math.randomseed(os.time() * 100 + (tid or 0))
end

function request()
    n = n + 1
    if idem == "1" then
        headers["Idempotency-Key"] = string.format("%08x-%04x-4%03x-8%03x-%012x",
            math.random(0, 0x7fffffff), nonce, tonumber(run) % 4096, tid % 4096, n)
    end
    local body = string.format(
        '{"agentId":"%s","name":"Bench Lead %s-%d-%d","email":"bench.%s.%d.%d@example.com","scheduledAt":"%s"}',
        agent, tag, tid, n, tag, tid, n, when)
    return wrk.format("POST", "/leads", headers, body)
end
