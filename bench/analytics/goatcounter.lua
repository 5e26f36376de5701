-- wrk script for bench/analytics/ingest.sh: GoatCounter's count endpoint as
-- its count.js calls it, GET /count?p=PATH&r=REF&s=W,H,1&rnd=..., with a
-- browser user agent picked per request (GoatCounter refuses bots, and
-- counts hits with an empty or bot user agent in its bots table, not in
-- hits) and a random cache buster. GoatCounter finds its site by the Host
-- header or, with one site, serves that one: GC_HOST is the site's vhost.
-- The done callback is bench/report.lua's (one RESULT line).

local dir = os.getenv("BENCH_DIR") or "bench"
dofile(dir .. "/analytics/agents.lua")

local host = os.getenv("GC_HOST") or "stats.bench.localhost"
thread_id = 0
local next_id = 0

function setup(thread)
   next_id = next_id + 1
   thread:set("thread_id", next_id)
end

function init(args)
   math.randomseed(os.time() * 1000 + thread_id)
end

local function esc(s)
   return (s:gsub("[^%w%-%._~/]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function request()
   local w = pick(width)
   local path = "/count?p=" .. esc(pick(pages)) .. "&r=" .. esc(pick(referrers)) ..
      "&s=" .. w .. "," .. math.floor(w * 0.6) .. ",1" ..
      "&rnd=" .. string.format("%x%x", math.random(0, 0x7fffffff), math.random(0, 0x7fffffff))
   return wrk.format("GET", path, {
      ["Host"] = host,
      ["User-Agent"] = pick(agents),
      ["Accept"] = "image/avif,image/webp,*/*",
      ["Accept-Language"] = "en-GB,en;q=0.9",
      ["Referer"] = "http://127.0.0.1/",
   })
end

dofile(dir .. "/report.lua")
