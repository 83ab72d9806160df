-- wrk script: a JSON-RPC tools/list (no tool runs, so nothing calls out on its own) with the bearer token from the
-- environment (TOKEN, may be empty). Used by the TokenReview scenario of bench/load.sh.
wrk.method = "POST"
wrk.body = '{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
local token = os.getenv("TOKEN")
if token ~= nil and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end
