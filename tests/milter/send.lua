-- tests/milter/send.lua — send each mail file in MAILS (separated by
-- spaces) as one message of a single connection, from FROM to RCPTS
-- (separated by commas); prints each end-of-message reply.
dofile(HL_TOP .. "/tests/milter/common.lua")

run(function()
	local rcpts = {}
	for r in RCPTS:gmatch("[^,]+") do
		rcpts[#rcpts + 1] = r
	end
	local conn = connect()
	local n = 0
	for path in MAILS:gmatch("%S+") do
		n = n + 1
		local fields, body = read_mail(path)
		send(conn, n, FROM, rcpts, fields, body)
	end
	mt.disconnect(conn)
end)
