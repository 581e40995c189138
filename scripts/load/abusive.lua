-- Abusive traffic, from a "botnet" of client IPs (so the cost budget alone
-- does not stop it): fragment fan-out bombs, 2,000-alias documents, batches,
-- login floods, oversized bodies, and the most expensive queries the limits
-- allow (30 aliases of every rubric's whole indicator tree).
local function fan_out(levels)
  local q = "query { ...F0 } "
  for i = 0, levels - 1 do
    q = q .. string.format("fragment F%d on Query { ...F%d ...F%d } ", i, i + 1, i + 1)
  end
  return q .. string.format("fragment F%d on Query { organisations(first: 1) { totalCount } }", levels)
end

local function aliases(n)
  local parts = {}
  for i = 0, n - 1 do parts[#parts + 1] = string.format("a%d: __typename", i) end
  return "{ " .. table.concat(parts, " ") .. " }"
end

local function expensive()
  -- Small pages keep 30 aliases under the complexity limit; the depth limit (12)
  -- leaves room for the clauses, not their rules.
  local one = "organisations(first: 2) { edges { node { rubrics(first: 2) { edges { node { " ..
    "versions(first: 3) { edges { node { indicators { code title maxPoints clauses { no text cap } } } } } } } } } } }"
  local parts = {}
  for i = 0, 29 do parts[#parts + 1] = string.format("v%d: %s", i, one) end
  return "{ " .. table.concat(parts, " ") .. " }"
end

local function json(q) return '{"query":' .. string.format("%q", q):gsub("\\\n", "\\n") .. '}' end

local bodies = {
  { "application/json", json(fan_out(30)) },
  { "application/json", json(aliases(2000)) },
  { "application/json", json(expensive()) },
  { "application/json", json(expensive()) },
  { "application/json", json(expensive()) },
  { "application/json", "[" .. string.rep(json(expensive()) .. ",", 4) .. json(expensive()) .. "]" },
  { "application/json", json('mutation { a: login(user: "x", password: "1") { token } b: login(user: "x", password: "2") { token } }') },
  { "application/json", '{"query":"{ __typename }","pad":"' .. string.rep("x", 300 * 1024) .. '"}' },
  { "text/plain", json("{ organisations(first: 1) { totalCount } }") },
}

request = function()
  local b = bodies[math.random(#bodies)]
  local ip = string.format("10.9.%d.%d", math.random(0, 255), math.random(1, 254))
  return wrk.format("POST", "/graphql", { ["Content-Type"] = b[1], ["X-Forwarded-For"] = ip }, b[2])
end

local statuses = {}
response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

done = function(summary, latency, requests)
  io.write(string.format("ABUSIVE requests=%d p50_ms=%.2f p99_ms=%.2f non2xx=%d timeouts=%d\n",
    summary.requests, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.status, summary.errors.timeout))
end
