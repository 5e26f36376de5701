-- wrk script for bench/web.sh: after wrk's own summary, print one line that
-- the shell script parses, with durations in milliseconds:
--
--   RESULT rps=12345.6 p50_ms=1.234 p90_ms=2.345 p99_ms=3.456 max_ms=9.87 requests=123456 errors=0
--
-- errors sums connect/read/write errors, timeouts and non-2xx/3xx answers:
-- a fast error page must not pass for a fast page.

done = function(summary, latency, requests)
   local e = summary.errors
   local errors = e.connect + e.read + e.write + e.status + e.timeout
   local seconds = summary.duration / 1e6
   io.write(string.format(
      "RESULT rps=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f requests=%d errors=%d\n",
      summary.requests / seconds,
      latency:percentile(50) / 1000,
      latency:percentile(90) / 1000,
      latency:percentile(99) / 1000,
      latency.max / 1000,
      summary.requests,
      errors))
end
