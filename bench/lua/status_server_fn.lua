-- The get_payment_status server function (a GET with the argument in the query, JSON answer), as the page calls it.
package.path = "bench/lua/?.lua;" .. package.path
require "ids"
function init(args) load_ids(args) end
function request() return wrk.format("GET", "/api/get_payment_status?payment_id=" .. next_id()) end
