-- The server-rendered payment page of the given orders.
package.path = "bench/lua/?.lua;" .. package.path
require "ids"
function init(args) load_ids(args) end
function request() return wrk.format("GET", "/orders/" .. next_id() .. "/pay") end
