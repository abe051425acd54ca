-- mix.lua: the RSS run's mix: GET /bookings/meeting/:token 60%, GET /leads/:id 25%,
-- POST /leads 15% (unique bodies), paths from BENCH_PATHS_MEETING / BENCH_PATHS_LEAD.
local c = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
setup = c.setup
local meeting, lead, headers, post_headers, agent, when
local n = 0

function init(args)
    meeting = c.lines(os.getenv("BENCH_PATHS_MEETING"))
    lead = c.lines(os.getenv("BENCH_PATHS_LEAD"))
    headers = c.headers()
    post_headers = c.headers({["Content-Type"] = "application/json"})
    agent = os.getenv("BENCH_AGENT")
    when = os.getenv("BENCH_WHEN")
    math.randomseed(os.time() * 100 + (tid or 0))
end

function request()
    local r = math.random(100)
    if r <= 60 then
        return wrk.format("GET", meeting[math.random(#meeting)], {})
    elseif r <= 85 then
        return wrk.format("GET", lead[math.random(#lead)], headers)
    end
    n = n + 1
    local body = string.format(
        '{"agentId":"%s","name":"Mix Lead %d-%d","email":"mix.%d.%d@example.com","scheduledAt":"%s"}',
        agent, tid, n, tid, n, when)
    return wrk.format("POST", "/leads", post_headers, body)
end
