-- A writer of another organisation: posts BODY_FILE (a mutation) with TOKEN,
-- then waits DELAY_MS (200: about 5 writes a second per connection).
-- Prints: WRITER requests=… rps=… p50_ms=… p99_ms=… non2xx=… errors=…
local f = assert(io.open(os.getenv("BODY_FILE"), "r"))
local body = f:read("*a")
f:close()
local headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. (os.getenv("TOKEN") or "") }
local wait = tonumber(os.getenv("DELAY_MS") or "200")

local threads = {}
setup = function(thread) table.insert(threads, thread) end

graphql_errors = 0
request = function() return wrk.format("POST", "/graphql", headers, body) end
delay = function() return wait end
response = function(status, hdrs, resp)
  if status ~= 200 or string.find(resp, '"errors"', 1, true) then graphql_errors = graphql_errors + 1 end
end

done = function(summary, latency, requests)
  local e = 0
  for _, t in ipairs(threads) do e = e + (t:get("graphql_errors") or 0) end
  local seconds = summary.duration / 1e6
  io.write(string.format("WRITER requests=%d rps=%.1f p50_ms=%.2f p99_ms=%.2f non2xx=%d errors=%d\n",
    summary.requests, summary.requests / seconds, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, summary.errors.status, e))
end
