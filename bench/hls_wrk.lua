-- SPDX-License-Identifier: MIT
-- bench/hls_wrk.lua -- wrk script for bench/hls_serve.sh: rotate over a list of paths.
--
--   wrk -t1 -c100 -d10s -s bench/hls_wrk.lua http://127.0.0.1:PORT -- /live/demo/120.ts /live/demo/121.ts ...
--
-- Each request takes the next path of the list (each wrk thread starts at a
-- different place in it), so the connections spread over the whole live
-- window. At the end one line for scripts:
--   RESULT requests=N bytes=N duration_us=N errors=N connect=N read=N write=N status=N timeout=N
--          p50_us=N p99_us=N max_us=N
-- bytes are everything read (heads and bodies), as wrk's Transfer/sec;
-- status counts answers other than 2xx/3xx.

local paths = {}
local n = 0
local i = 0

function init(args)
   for _, p in ipairs(args) do
      n = n + 1
      paths[n] = p
   end
   if n == 0 then
      paths[1] = "/"
      n = 1
   end
   -- a different starting point per thread; math.random is seeded per state
   math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 1000)
   i = math.random(n) - 1
end

function request()
   i = i % n + 1
   return wrk.format("GET", paths[i])
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      "RESULT requests=%d bytes=%d duration_us=%d errors=%d connect=%d read=%d write=%d status=%d timeout=%d p50_us=%d p99_us=%d max_us=%d\n",
      summary.requests, summary.bytes, summary.duration,
      e.connect + e.read + e.write + e.status + e.timeout,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(99), latency.max))
end
