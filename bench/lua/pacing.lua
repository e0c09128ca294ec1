-- Pacing for the latency rows: after each answer a connection waits 0–8 ms at random (4 ms on
-- average), so 256 connections ask ~50,000 times a second (100,000 shoppers polling every 2 s,
-- about half of what the status read can serve here) at independent moments, as shoppers do.
-- (A fixed delay keeps wrk's connections in lockstep: bursts of 256 requests at once.)
local inner_init = init
function init(args)
  if inner_init then inner_init(args) end
  math.randomseed(os.time() + (thread_index or 0) * 7919)
end
function delay() return math.random(0, 8) end
