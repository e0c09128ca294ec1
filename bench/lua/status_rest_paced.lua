-- status_rest.lua, paced (see pacing.lua): latency under load rather than at saturation, where it is only queueing.
dofile("bench/lua/status_rest.lua")
dofile("bench/lua/pacing.lua")
