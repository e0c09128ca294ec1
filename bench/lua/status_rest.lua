-- GET /api/pay/{id}/status over the given payment ids.
package.path = "bench/lua/?.lua;" .. package.path
require "ids"
function init(args) load_ids(args) end
function request() return wrk.format("GET", "/api/pay/" .. next_id() .. "/status") end
