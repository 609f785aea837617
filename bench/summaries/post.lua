-- wrk script for bench.summaries: POST one JSON body (the process execution) to one path.
--   wrk -t2 -c8 -d10s -s bench/summaries/post.lua http://127.0.0.1:8342 -- /ogcapi/processes/summary/execution body.json
local path, body
function init(args)
   path = args[1]
   local file = assert(io.open(args[2], "r"))
   body = file:read("*a")
   file:close()
end
function request()
   return wrk.format("POST", path, {["Content-Type"] = "application/json"}, body)
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
