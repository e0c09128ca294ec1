-- The get_payment_status server function (form-encoded argument, JSON answer), as the page calls it.
package.path = "bench/lua/?.lua;" .. package.path
require "ids"
function init(args) load_ids(args) end
function request()
  return wrk.format("POST", "/api/get_payment_status",
    { ["Content-Type"] = "application/x-www-form-urlencoded" }, "payment_id=" .. next_id())
end
