-- The done() of every wrk script of the benchmarks (bench/load/paths.lua, bench/summaries/post.lua): one
-- machine-readable line with throughput, latency percentiles and errors, which bench/load/wrk.py reads.
-- A script loads it with dofile() from its own folder (wrk runs the script with the standard Lua libraries).
function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      "WRK-RESULT requests=%d duration_us=%d p50_us=%d p90_us=%d p95_us=%d p99_us=%d max_us=%d mean_us=%.0f "
      .. "connect=%d read=%d write=%d status=%d timeout=%d bytes=%d\n",
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
      latency:percentile(95), latency:percentile(99), latency.max, latency.mean,
      e.connect, e.read, e.write, e.status, e.timeout, summary.bytes))
end
