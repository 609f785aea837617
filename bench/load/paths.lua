-- wrk script for bench.peers (bench/load/wrk.py): request paths taken from a file (one path per line, made by the
-- benchmark with a fixed seed, so every server gets the same boxes / offsets / ids), and a done() that
-- prints one machine-readable line with throughput, latency percentiles and errors.
--
--   wrk -t2 -c8 -d20s --timeout 60s -s bench/load/paths.lua http://127.0.0.1:8101 -- paths.txt

local threads = {}
local paths = {}
local next_index = 1

function setup(thread)
   thread:set("thread_number", #threads)
   table.insert(threads, thread)
end

function init(args)
   local file = assert(io.open(args[1], "r"), "cannot open " .. tostring(args[1]))
   for line in file:lines() do
      if #line > 0 then paths[#paths + 1] = line end
   end
   file:close()
   assert(#paths > 0, "no request paths in " .. args[1])
   -- the threads walk the same list from different starting points
   next_index = (thread_number * math.floor(#paths / 2)) % #paths + 1
end

function request()
   local path = paths[next_index]
   next_index = next_index % #paths + 1
   return wrk.format("GET", path)
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      "WRK-RESULT requests=%d duration_us=%d p50_us=%d p90_us=%d p95_us=%d p99_us=%d max_us=%d mean_us=%.0f "
      .. "connect=%d read=%d write=%d status=%d timeout=%d bytes=%d\n",
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
      latency:percentile(95), latency:percentile(99), latency.max, latency.mean,
      e.connect, e.read, e.write, e.status, e.timeout, summary.bytes))
end
