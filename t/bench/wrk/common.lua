-- common.lua: shared by the wrk scripts of t/bench (loaded with dofile from BENCH_LUA_DIR).
-- Every thread gets an index (tid) in setup(); the Authorization header comes from BENCH_KEY
-- (unset = no header: the public meeting path).
local M = {}

local threads = 0
function M.setup(thread)
    thread:set("tid", threads)
    threads = threads + 1
end

function M.headers(extra)
    local h = {}
    local key = os.getenv("BENCH_KEY")
    if key and key ~= "" then h["Authorization"] = "Bearer " .. key end
    for k, v in pairs(extra or {}) do h[k] = v end
    return h
end

-- The deterministic ids of t/bench/seed-tenant.sql: pfx .. kind .. "-0000-4000-8000-" .. tail(i)
function M.seed_uuid(pfx, kind, i)
    return string.format("%s%s-0000-4000-8000-%.0f", pfx, kind, (i * 7919) % 900000000000 + 100000000000)
end

function M.lines(path)
    local t = {}
    for line in io.lines(path) do
        if line ~= "" then t[#t + 1] = line end
    end
    assert(#t > 0, "no lines in " .. path)
    return t
end

return M
