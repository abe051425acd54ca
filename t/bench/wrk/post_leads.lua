-- post_leads.lua: POST /leads with a unique body per request (thread index + counter in the name
-- and the e-mail), agent BENCH_AGENT, scheduledAt BENCH_WHEN (in the future).
local c = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
setup = c.setup
local headers, agent, when
local n = 0
local run = os.getenv("BENCH_RUN") or "0"

function init(args)
    headers = c.headers({["Content-Type"] = "application/json"})
    agent = os.getenv("BENCH_AGENT")
    when = os.getenv("BENCH_WHEN")
end

function request()
    n = n + 1
    local body = string.format(
        '{"agentId":"%s","name":"Bench Lead %s-%d-%d","email":"bench.%s.%d.%d@example.com","scheduledAt":"%s"}',
        agent, run, tid, n, run, tid, n, when)
    return wrk.format("POST", "/leads", headers, body)
end
