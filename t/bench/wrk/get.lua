-- get.lua: GET a random path of the file BENCH_PATHS (one per line) per request.
local c = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
setup = c.setup
local paths, headers

function init(args)
    paths = c.lines(os.getenv("BENCH_PATHS"))
    headers = c.headers()
    math.randomseed(os.time() * 100 + (tid or 0))
end

function request()
    return wrk.format("GET", paths[math.random(#paths)], headers)
end
