-- status_server_fn.lua at a steady pace: each connection waits 10 ms before each request (about 25,000
-- requests/s over 256 connections, i.e. 51,000 shoppers polling every 2 s), so latency is
-- measured under load rather than at saturation, where it is only queueing.
dofile("bench/lua/status_server_fn.lua")
function delay() return 10 end
