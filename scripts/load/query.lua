-- One GraphQL query, repeated: the body comes from BODY_FILE, the bearer
-- token from TOKEN (may be empty), the label from NAME. Prints one line:
-- RESULT name=… requests=… rps=… p50_ms=… p99_ms=… non2xx=… errors=…
local f = assert(io.open(os.getenv("BODY_FILE"), "r"))
local body = f:read("*a")
f:close()
local token = os.getenv("TOKEN") or ""
local name = os.getenv("NAME") or "query"

local headers = { ["Content-Type"] = "application/json" }
if token ~= "" then headers["Authorization"] = "Bearer " .. token end
-- NO_CACHE=1: every request runs the query (the response cache is bypassed).
if os.getenv("NO_CACHE") == "1" then headers["Cache-Control"] = "no-cache" end

request = function()
  return wrk.format("POST", "/graphql", headers, body)
end

-- Counters live in each wrk thread; done() sees only the main one, so every
-- thread's table is kept and summed at the end (a local here counted nothing).
local threads = {}
setup = function(thread) table.insert(threads, thread) end

graphql_errors = 0
response = function(status, hdrs, resp)
  if status == 200 and string.find(resp, '"errors"', 1, true) then graphql_errors = graphql_errors + 1 end
end

done = function(summary, latency, requests)
  local e = 0
  for _, t in ipairs(threads) do e = e + (t:get("graphql_errors") or 0) end
  local seconds = summary.duration / 1e6
  io.write(string.format("RESULT name=%s requests=%d rps=%.0f p50_ms=%.2f p99_ms=%.2f non2xx=%d errors=%d\n",
    name, summary.requests, summary.requests / seconds, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, summary.errors.status, e))
end
