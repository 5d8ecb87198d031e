-- wrk script: POST one multicast of 1 text message to the 500 residents
-- listed in $BODY_FILE, with the channel token in $TOKEN.
local f = assert(io.open(os.getenv("BODY_FILE"), "r"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")

local statuses = {}
function response(status, headers, body)
	statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
	-- Non-2xx answers would make the rate meaningless: report them.
	io.write(string.format("non2xx %d\n", summary.errors.status))
	io.write(string.format("p50_ms %.2f\np99_ms %.2f\n",
		latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
