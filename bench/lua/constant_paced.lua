-- constant.lua, paced (see pacing.lua): latency under load rather than at saturation, where it is only queueing.
dofile("bench/lua/constant.lua")
dofile("bench/lua/pacing.lua")
