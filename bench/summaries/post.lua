-- wrk script for bench.summaries: POST one JSON body (the process execution) to one path, optionally with one
-- more request header ("Name: value").
--   wrk -t2 -c8 -d10s -s bench/summaries/post.lua http://127.0.0.1:8342 -- /ogcapi/processes/summary/execution body.json
--   ... -- /ogcapi/processes/summary/execution body.json "Prefer: wait"
local path, body
local headers = {["Content-Type"] = "application/json"}
function init(args)
   path = args[1]
   local file = assert(io.open(args[2], "r"))
   body = file:read("*a")
   file:close()
   if args[3] then
      local name, value = string.match(args[3], "^([^:]+):%s*(.*)$")
      headers[name] = value
   end
end
function request()
   return wrk.format("POST", path, headers, body)
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
