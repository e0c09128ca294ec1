-- The bare handler, asked exactly what the REST status read is asked (same paths, built the same
-- way per request), so the load generator spends the same on both and only the servers differ.
dofile("bench/lua/status_rest.lua")
