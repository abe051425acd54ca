-- patch_status.lua: PATCH /bookings/:id/status {"status":"CONFIRMED"} on the pool tenant's
-- deterministic bookings (t/bench/seed-tenant.sql, prefix BENCH_PFX).
--   BENCH_PATCH_MODE=walk   thread t takes rows BENCH_BASE + t*BENCH_STRIDE + 1, 2, 3, ... in
--                           turn: every request is a real PENDING -> CONFIRMED change (as long as
--                           the thread's stride lasts; t/bench/run counts the changes made)
--   BENCH_PATCH_MODE=random a random row of BENCH_BASE+1 .. BENCH_BASE+BENCH_STRIDE, rows the
--                           harness confirmed beforehand: every request is a same-status 200 no-op
local c = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
setup = c.setup
local headers, pfx, base, stride, mode
local n = 0
local body = '{"status":"CONFIRMED"}'

function init(args)
    headers = c.headers({["Content-Type"] = "application/json"})
    pfx = os.getenv("BENCH_PFX")
    base = tonumber(os.getenv("BENCH_BASE"))
    stride = tonumber(os.getenv("BENCH_STRIDE"))
    mode = os.getenv("BENCH_PATCH_MODE") or "walk"
    math.randomseed(os.time() * 100 + (tid or 0))
end

function request()
    local i
    if mode == "random" then
        i = base + math.random(stride)
    else
        n = n + 1
        i = base + tid * stride + n
    end
    return wrk.format("PATCH", "/bookings/" .. c.seed_uuid(pfx, "2", i) .. "/status", headers, body)
end
