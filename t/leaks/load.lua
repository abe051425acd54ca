-- load.lua: the mixed request load of t/leaks/run for wrk (one thread).
-- wrk -t1 -c4 -d60m -s load.lua URL -- IDS_FILE COUNT DONE_FILE
-- IDS_FILE (Lua, written by t/leaks/run) defines: key, key2, tenant, tenant2, agent,
-- agent_link, lead_id, booking, token, cursor, delete_ids (agent ids of the second tenant).
-- After COUNT responses the thread stops and creates DONE_FILE: wrk's main thread sleeps for
-- the whole -d duration whatever its threads do, so t/leaks/run then interrupts it (SIGINT),
-- which makes it print done()'s figures: the count per status.

local ids_file, target, done_file
local reqs = {}
local n = 0
local deleted = 0
counts = {}
responses = 0

local function json_headers(k)
   return { ["Authorization"] = "Bearer " .. k, ["Content-Type"] = "application/json" }
end

local function add(method, path, headers, body)
   reqs[#reqs + 1] = wrk.format(method, path, headers, body)
end

function init(args)
   ids_file, target, done_file = args[1], tonumber(args[2]), args[3]
   dofile(ids_file)
   local auth = { ["Authorization"] = "Bearer " .. key }
   local j = json_headers(key)
   local when = os.date("!%Y-%m-%dT10:00:00.000Z", os.time() + 7 * 86400)
   local lead = '{"agentId":"' .. agent .. '","name":"Load Lead","email":"load@example.com","scheduledAt":"' .. when .. '"}'

   -- reads
   add("GET", "/leads?limit=5", auth)
   add("GET", "/leads?limit=2&agentId=" .. agent .. "&cursor=" .. cursor, auth)
   add("GET", "/leads/stats", auth)
   add("GET", "/leads/stats?agentId=" .. agent .. "&tenantId=" .. tenant, auth)
   add("GET", "/leads/" .. lead_id, auth)
   add("GET", "/leads/00000000-0000-4000-8000-000000000000", auth)       -- 404
   add("GET", "/agents", auth)
   add("GET", "/agents/" .. agent, auth)
   add("GET", "/agents/by-link/" .. agent_link, auth)
   add("GET", "/bookings/meeting/" .. token, {})                         -- public (nginx: 429 beyond 5/s)
   add("GET", "/bookings/meeting/" .. token, { ["Accept"] = "text/calendar" })
   add("GET", "/healthz", {})
   add("GET", "/readyz", {})
   -- writes
   add("POST", "/leads", j, lead)                                        -- 201 (lead + booking)
   add("PATCH", "/bookings/" .. booking .. "/status", j, '{"status":"CONFIRMED"}')
   add("PATCH", "/bookings/" .. booking .. "/status", j, '{"status":"PENDING"}') -- 409
   add("POST", "/agents", json_headers(key2),
       '{"name":"Load agent","knowledge":"Answers questions about the load test.","linkExpiryHours":48}')
   add("PATCH", "/agents/" .. agent, j, '{"knowledge":"Knows the product inside out, updated."}')
   add("DELETE", "DELETE_PLACEHOLDER", { ["Authorization"] = "Bearer " .. key2 })
   -- bad input
   add("POST", "/leads", j, '{"agentId":"x","name":"","email":"@","scheduledAt":"2001-01-01","extra":1}')
   add("POST", "/leads", j, '{"agentId": "' .. agent .. '", "name": "x",')  -- malformed JSON
   add("POST", "/leads", j, '{"a":1,"a":2}')                                -- duplicate names
   add("PATCH", "/bookings/" .. booking .. "/status", j, '{"status":"bogus"}')
   add("POST", "/agents", { ["Authorization"] = "Bearer " .. key, ["Content-Type"] = "text/plain" }, "{}") -- 415
   add("GET", "/leads?limit=5000", auth)                                 -- 400
   add("GET", "/leads?cursor=not-a-cursor", auth)                        -- 400
   add("GET", "/leads/not-a-uuid", auth)                                 -- 400
   add("GET", "/leads?tenantId=" .. tenant2, auth)                       -- 403
   add("GET", "/leads", { ["Authorization"] = "Bearer lbk_not_a_real_key" }) -- 401
   add("GET", "/leads", { ["Authorization"] = "Basic eDp5" })            -- 401
   add("GET", "/nope/%C3%A9", auth)                                      -- 404
   add("PUT", "/leads", auth)                                            -- 405
   add("OPTIONS", "/agents", auth)                                       -- 204
end

function request()
   n = n + 1
   local r = reqs[(n - 1) % #reqs + 1]
   if r:find("DELETE_PLACEHOLDER", 1, true) then
      -- each agent of the list once (200), then ids that no longer exist (404)
      deleted = deleted + 1
      local id = delete_ids[(deleted - 1) % #delete_ids + 1]
      r = r:gsub("DELETE_PLACEHOLDER", "/agents/" .. id)
   end
   return r
end

function response(status, headers, body)
   responses = responses + 1
   counts[status] = (counts[status] or 0) + 1
   if responses == target then
      wrk.thread:stop()
      local f = io.open(done_file, "w")
      f:write(responses, "\n")
      f:close()
   end
end

local threads = {}
function setup(thread)
   threads[#threads + 1] = thread
end

function done(summary, latency, requests)
   local total = 0
   local bystatus = {}
   for _, t in ipairs(threads) do
      total = total + t:get("responses")
      for status, c in pairs(t:get("counts")) do
         bystatus[status] = (bystatus[status] or 0) + c
      end
   end
   local codes = {}
   for status in pairs(bystatus) do codes[#codes + 1] = status end
   table.sort(codes)
   io.write(string.format("responses %d\n", total))
   for _, status in ipairs(codes) do
      io.write(string.format("status %d %d\n", status, bystatus[status]))
   end
   io.write(string.format("socket_errors %d\n", summary.errors.connect + summary.errors.read +
                          summary.errors.write + summary.errors.timeout))
end
