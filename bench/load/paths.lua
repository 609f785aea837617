-- wrk script for bench.peers (bench/load/wrk.py): request paths taken from a file (one path per line, made by the
-- benchmark with a fixed seed, so every server gets the same boxes / offsets / ids), and report.lua's done() that
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

-- done(): the WRK-RESULT line, shared with the other benchmark scripts
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "report.lua")
