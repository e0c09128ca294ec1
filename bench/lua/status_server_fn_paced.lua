-- status_server_fn.lua, paced (see pacing.lua): latency under load rather than at saturation, where it is only queueing.
dofile("bench/lua/status_server_fn.lua")
dofile("bench/lua/pacing.lua")
