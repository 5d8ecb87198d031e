-- tests/milter/abort.lua — a message the client abandons half-way (RSET:
-- xxfi_abort), then MAIL in full on the same connection: only the second
-- is copied, with nothing of the first mixed into it.
dofile(HL_TOP .. "/tests/milter/common.lua")

run(function()
	local conn = connect()
	local fields, body = read_mail(MAIL)
	step(conn, "mail from", mt.mailfrom(conn, "<" .. FROM .. ">"))
	step(conn, "rcpt to", mt.rcptto(conn, "<" .. RCPT .. ">"))
	step(conn, "header", mt.header(conn, "X-Abandoned", "yes"))
	step(conn, "eoh", mt.eoh(conn))
	step(conn, "body", mt.bodystring(conn, "the abandoned message\r\n"))
	local err = mt.abort(conn)
	if err ~= nil then
		error("abort failed: " .. err)
	end
	send(conn, 1, FROM, {RCPT}, fields, body)
	mt.disconnect(conn)
end)
