-- wrk script for bench/analytics/ingest.sh: Storekeep's beacon as a page's
-- script sends it, POST /a/v with a small text/plain JSON body
--
--   {"t":"v","id":"<16 hex, new per request>","p":"/products/quillguard","r":"https://news.example.org/x","w":1280}
--
-- (a view beacon as count.js sends it; p is one of the public pages of
-- agents.lua, the only paths Storekeep counts; the id is random per request,
-- as the table keeps one row per day and id)
--
-- Content-Type text/plain (a simple request: no CORS preflight),
-- Origin http://HOST (BEACON_ORIGIN, default the target's host and port)
-- and Sec-Fetch-Site same-origin, and a browser user agent picked per
-- request. Every request comes from 127.0.0.1 (X-Forwarded-For is not
-- trusted), so the endpoint's per-address rate limit must be lifted for
-- the bench: ingest.sh passes --analytics-beacons-per-minute 1000000. The bare baseline reads the
-- same requests. The done callback is bench/report.lua's.

local dir = os.getenv("BENCH_DIR") or "bench"
dofile(dir .. "/analytics/agents.lua")

local path = os.getenv("BEACON_PATH") or "/a/v"
local origin = os.getenv("BEACON_ORIGIN")
thread_id = 0
local next_id = 0

function setup(thread)
   next_id = next_id + 1
   thread:set("thread_id", next_id)
end

function init(args)
   math.randomseed(os.time() * 1000 + thread_id)
   if origin == nil or origin == "" then
      origin = wrk.scheme .. "://" .. wrk.host .. ":" .. wrk.port
   end
end

function request()
   local id = string.format("%08x%08x", math.random(0, 0x7fffffff), math.random(0, 0x7fffffff))
   local body = '{"t":"v","id":"' .. id .. '","p":"' .. pick(pages) .. '","r":"' .. pick(referrers) .. '","w":' .. pick(width) .. '}'
   return wrk.format("POST", path, {
      ["Content-Type"] = "text/plain;charset=UTF-8",
      ["Origin"] = origin,
      ["Sec-Fetch-Site"] = "same-origin",
      ["Sec-Fetch-Mode"] = "no-cors",
      ["User-Agent"] = pick(agents),
   }, body)
end

dofile(dir .. "/report.lua")
