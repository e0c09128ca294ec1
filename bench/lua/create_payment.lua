-- POST /api/pay/create for the given orders, each once while the pool lasts (then a new payment
-- supersedes the order's previous one, which the summary counts apart).
package.path = "bench/lua/?.lua;" .. package.path
require "ids"
function init(args) load_ids(args) end
function request()
  return wrk.format("POST", "/api/pay/create", { ["Content-Type"] = "application/json" },
    '{"orderId":"' .. next_id() .. '"}')
end
