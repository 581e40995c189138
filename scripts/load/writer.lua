-- A writer of another organisation: posts the mutations of BODY_FILE (one
-- JSON body per line, taken in turn) with TOKEN, then waits DELAY_MS (200:
-- about 5 writes a second per connection).
-- Prints: WRITER requests=… rps=… p50_ms=… p99_ms=… non2xx=… errors=…
local bodies = {}
for line in io.lines(os.getenv("BODY_FILE")) do
  if line ~= "" then table.insert(bodies, line) end
end
assert(#bodies > 0, "BODY_FILE has no body")
local next_body = 0
local headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. (os.getenv("TOKEN") or "") }
local wait = tonumber(os.getenv("DELAY_MS") or "200")

local threads = {}
setup = function(thread) table.insert(threads, thread) end

graphql_errors = 0
request = function()
  next_body = next_body % #bodies + 1
  return wrk.format("POST", "/graphql", headers, bodies[next_body])
end
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
