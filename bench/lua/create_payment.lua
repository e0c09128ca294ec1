-- POST /api/pay/create for the given orders, each once while the pool lasts (then the order's
-- pending payment is answered again: nothing new is stored, which the summary counts apart).
package.path = "bench/lua/?.lua;" .. package.path
require "ids"
function init(args) load_ids(args) end
function request()
  return wrk.format("POST", "/api/pay/create", { ["Content-Type"] = "application/json" },
    '{"orderId":"' .. next_id() .. '"}')
end
