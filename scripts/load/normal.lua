-- Normal traffic: a department head's typical query, from many client IPs
-- (the server runs with TRUSTED_PROXIES=127.0.0.1, so X-Forwarded-For picks
-- the budget key).
local body = '{"query":"{ organisations(first: 5) { edges { node { code name rubrics(first: 3) { edges { node { code currentVersion { label regime baseMaxTotal } } } } } } } }"}'

request = function()
  local ip = string.format("10.1.%d.%d", math.random(0, 255), math.random(1, 254))
  return wrk.format("POST", "/graphql", {
    ["Content-Type"] = "application/json",
    ["X-Forwarded-For"] = ip,
  }, body)
end

local statuses = {}
response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

done = function(summary, latency, requests)
  io.write(string.format("NORMAL requests=%d p50_ms=%.2f p99_ms=%.2f max_ms=%.2f non2xx=%d timeouts=%d\n",
    summary.requests, latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.errors.status, summary.errors.timeout))
end
