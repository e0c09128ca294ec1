-- The bare handler: same reporting, one URL.
package.path = "bench/lua/?.lua;" .. package.path
require "ids"
