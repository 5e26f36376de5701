-- wrk script for bench/license.sh: POST /api/v1/licenses/validate with a
-- random key from the file KEYS_FILE (one key a line, written by
-- bench/licenses seed) and a new nonce in every request, as a product
-- validating its key sends them:
--
--   {"key":"SK1....","nonce":"bench-T-NNNNNNNNNNNNNNNN"}
--
-- Every request has the same size (keys of one seed have one length, the
-- nonce is 24 characters). The same script drives the bare baseline, so
-- both sides parse the same requests. The done callback is
-- bench/report.lua's (one RESULT line for the shell script).

local keys_file = os.getenv("KEYS_FILE") or "keys.txt"
local keys = {}
local counter = 0
thread_id = 0 -- set by setup in each thread's state
local next_id = 0

function setup(thread)
   next_id = next_id + 1
   thread:set("thread_id", next_id)
end

function init(args)
   for line in io.lines(keys_file) do
      if #line > 0 then
         keys[#keys + 1] = line
      end
   end
   if #keys == 0 then
      error("no keys in " .. keys_file)
   end
   math.randomseed(os.time() * 1000 + thread_id)
end

function request()
   counter = counter + 1
   local key = keys[math.random(#keys)]
   local nonce = string.format("bench-%d-%016d", thread_id % 10, counter)
   local body = '{"key":"' .. key .. '","nonce":"' .. nonce .. '"}'
   return wrk.format("POST", "/api/v1/licenses/validate",
      { ["Content-Type"] = "application/json" }, body)
end

dofile((os.getenv("BENCH_DIR") or "bench") .. "/report.lua")
