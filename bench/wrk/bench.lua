-- wrk script for scenarios 1 and 2; BENCH_MODE picks the request:
--   get       GET of /get/f0001.bin .. /get/fNNNN.bin in turn (NNNN = BENCH_FILES); the
--             requests are formatted once in init, so the per-request Lua cost is one table read
--   propfind  PROPFIND Depth 1 allprop of the URL's path
-- done() prints one "BENCH_JSON {...}" line that bench/scenarios.py parses (wrk's own text
-- output is for people).
local mode = os.getenv("BENCH_MODE") or "get"
-- BENCH_AUTH: an Authorization header for every request (the keepdav-auth server); set before
-- init formats the GET requests, which take wrk.headers.
local auth = os.getenv("BENCH_AUTH") or ""
if auth ~= "" then
  wrk.headers["Authorization"] = auth
end
local n = tonumber(os.getenv("BENCH_FILES") or "1")
local reqs = {}
local i = 0

if mode == "propfind" then
  wrk.method = "PROPFIND"
  wrk.headers["Depth"] = "1"
  wrk.headers["Content-Type"] = "application/xml; charset=utf-8"
  wrk.body = '<?xml version="1.0" encoding="utf-8"?>' ..
             '<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>'
else
  init = function(args)
    for k = 1, n do
      reqs[k] = wrk.format("GET", string.format("/get/f%04d.bin", k))
    end
  end
  request = function()
    i = i % n + 1
    return reqs[i]
  end
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,' ..
    '"write":%d,"status":%d,"timeout":%d,"p50_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(99)))
end
