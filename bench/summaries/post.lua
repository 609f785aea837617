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

-- done(): the WRK-RESULT line, shared with the other benchmark scripts
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "../load/report.lua")
