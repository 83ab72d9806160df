-- wrk script: a JSON-RPC tools/call of whoami with the bearer token from the environment (TOKEN, may be empty).
-- No response() callback: it would make wrk run Lua on every response and take CPU from the servers it shares the
-- machine with. wrk itself counts non-2xx/3xx answers ("Non-2xx or 3xx responses"), which bench/load.sh checks.
wrk.method = "POST"
wrk.body = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{}}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
local token = os.getenv("TOKEN")
if token ~= nil and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end
