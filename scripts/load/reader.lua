-- A reader of one organisation: query.lua's request (BODY_FILE, TOKEN, NAME),
-- and the share of answers the response cache gave (X-Kaohe-Cache: hit).
-- Prints: RESULT name=… requests=… rps=… p50_ms=… p99_ms=… hits=… misses=… hit_pct=… non2xx=… errors=…
local f = assert(io.open(os.getenv("BODY_FILE"), "r"))
local body = f:read("*a")
f:close()
local token = os.getenv("TOKEN") or ""
local name = os.getenv("NAME") or "reader"
local headers = { ["Content-Type"] = "application/json" }
if token ~= "" then headers["Authorization"] = "Bearer " .. token end

-- Counters live in each wrk thread; done() sees only the main one, so every
-- thread's table is kept and summed at the end.
local threads = {}
setup = function(thread) table.insert(threads, thread) end

hits, misses, graphql_errors = 0, 0, 0
request = function() return wrk.format("POST", "/graphql", headers, body) end
-- DELAY_MS > 0: each connection pauses between requests (a person reading).
local pause = tonumber(os.getenv("DELAY_MS") or "0")
if pause > 0 then delay = function() return pause end end
response = function(status, hdrs, resp)
  local cache = hdrs["x-kaohe-cache"] or hdrs["X-Kaohe-Cache"]
  if cache == "hit" then hits = hits + 1 else misses = misses + 1 end
  if status == 200 and string.find(resp, '"errors"', 1, true) then graphql_errors = graphql_errors + 1 end
end

done = function(summary, latency, requests)
  local h, m, e = 0, 0, 0
  for _, t in ipairs(threads) do
    h = h + (t:get("hits") or 0); m = m + (t:get("misses") or 0); e = e + (t:get("graphql_errors") or 0)
  end
  local seconds = summary.duration / 1e6
  local pct = (h + m) > 0 and 100 * h / (h + m) or 0
  io.write(string.format("RESULT name=%s requests=%d rps=%.0f p50_ms=%.2f p99_ms=%.2f hits=%d misses=%d hit_pct=%.1f non2xx=%d errors=%d\n",
    name, summary.requests, summary.requests / seconds, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, h, m, pct, summary.errors.status, e))
end
