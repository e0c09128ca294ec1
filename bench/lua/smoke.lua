-- The quick mode's smoke load: every kind of request a checkout makes, in turn, over the given
-- orders (their payments are created along the way).
package.path = "bench/lua/?.lua;" .. package.path
require "ids"
function init(args) load_ids(args) end
local turn = 0
local order = nil
function request()
  turn = turn % 4 + 1
  if turn == 1 then
    order = next_id()
    return wrk.format("POST", "/api/pay/create", { ["Content-Type"] = "application/json" },
      '{"orderId":"' .. order .. '"}')
  elseif turn == 2 then
    return wrk.format("POST", "/api/current_or_new_payment",
      { ["Content-Type"] = "application/x-www-form-urlencoded" }, "order_id=" .. order)
  elseif turn == 3 then
    return wrk.format("GET", "/orders/" .. order .. "/pay")
  else
    return wrk.format("GET", "/api/orders/" .. order)
  end
end
