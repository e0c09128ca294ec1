-- Shared by the wrk scripts: each thread loads the ids file named by the first script argument
-- and walks its own slice of it (so a pool of orders is used once each while it lasts), and the
-- summary prints one line run.sh parses.
ids = {}
local counter = 0
local thread_count = 0

function setup(thread)
  thread:set("thread_index", thread_count)
  thread_count = thread_count + 1
end

function load_ids(args)
  for line in io.lines(args[1]) do
    if #line > 0 then ids[#ids + 1] = line end
  end
  assert(#ids > 0, "no ids in " .. args[1])
  local threads = tonumber(args[2] or "1")
  counter = math.floor(#ids * (thread_index or 0) / threads)
end

function next_id()
  counter = counter % #ids + 1
  return ids[counter]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d seconds=%.2f rps=%.0f p50_us=%d p90_us=%d p99_us=%d errors=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout + e.status))
end
