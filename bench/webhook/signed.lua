-- wrk script: POST pre-signed LINE webhook requests from $BODIES (lines of
-- "SIGNATURE<TAB>BODY", bench/webhook/gen.pl), each thread taking every
-- Nth line so that no two requests carry the same webhookEventId until
-- the file is used up (then it starts again: redeliveries).
local threads = {}
local nthreads = tonumber(os.getenv("THREADS") or "2")
local counter = 0

function setup(thread)
	thread:set("tid", counter)
	counter = counter + 1
	table.insert(threads, thread)
end

local sigs, bodies, n, i = {}, {}, 0, 0

function init(args)
	local k = 0
	for line in io.lines(os.getenv("BODIES")) do
		if k % nthreads == tid then
			local tab = line:find("\t", 1, true)
			n = n + 1
			sigs[n] = line:sub(1, tab - 1)
			bodies[n] = line:sub(tab + 1)
		end
		k = k + 1
	end
end

function request()
	i = i % n + 1
	return wrk.format("POST", "/webhook", {
		["Content-Type"] = "application/json",
		["X-Line-Signature"] = sigs[i],
	}, bodies[i])
end

function done(summary, latency, requests)
	io.write(string.format("non2xx %d\n", summary.errors.status))
	io.write(string.format("requests %d\n", summary.requests))
	io.write(string.format("p50_ms %.2f\np99_ms %.2f\n",
		latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
