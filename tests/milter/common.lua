-- tests/milter/common.lua — helpers for the miltertest scripts that drive
-- hotline-milter (tests/integration/milter.sh).  Loaded with dofile() by
-- each script; the shell passes -D SOCKET=inet:PORT@127.0.0.1 -D HL_TOP=...
--
-- Each step's reply is checked to be "continue" up to the end of the
-- message; the end-of-message reply is printed ("eom N: continue") for the
-- shell to assert on, so a failure shows what the milter answered.

local names = {}
names[SMFIR_CONTINUE] = "continue"
names[SMFIR_ACCEPT] = "accept"
names[SMFIR_TEMPFAIL] = "tempfail"
names[SMFIR_REJECT] = "reject"
names[SMFIR_DISCARD] = "discard"

function reply_name(conn)
	local r = mt.getreply(conn)
	return names[r] or ("other(" .. tostring(r) .. ")")
end

-- step(conn, what, err): fail the script when a call failed or the milter
-- answered anything but continue or accept before the end of the message.
-- Returns false after accept: the milter is done with this message (the
-- MTA sends nothing more of it).
function step(conn, what, err)
	if err ~= nil then
		error(what .. " failed: " .. err)
	end
	local r = reply_name(conn)
	if r == "accept" then
		return false
	end
	if r ~= "continue" then
		error(what .. ": the milter answered " .. r .. " instead of continue")
	end
	return true
end

function connect()
	local conn = mt.connect(SOCKET, 50, 0.1)
	if conn == nil then
		error("cannot connect to " .. SOCKET)
	end
	step(conn, "conninfo", mt.conninfo(conn, "mx.test", "127.0.0.1"))
	-- No HELO: the milter has no use for it and negotiates SMFIP_NOHELO.
	return conn
end

-- The header fields (name, value with folds as "\n" + white space, as
-- Postfix passes them) and the body (CRLF) of a mail file.
function read_mail(path)
	local f = assert(io.open(path, "rb"))
	local raw = f:read("*a")
	f:close()
	local head, body = raw:match("^(.-)\r?\n\r?\n(.*)$")
	if head == nil then
		head, body = raw, ""
	end
	local fields = {}
	for line in (head .. "\n"):gmatch("(.-)\r?\n") do
		if line:match("^[ \t]") and #fields > 0 then
			fields[#fields].value = fields[#fields].value .. "\n" .. line
		else
			local name, value = line:match("^([^:]+):[ \t]?(.*)$")
			if name ~= nil then
				fields[#fields + 1] = {name = name, value = value}
			end
		end
	end
	return fields, body
end

-- send(conn, n, from, rcpts, fields, body): one message; prints and
-- returns the end-of-message reply.  body is sent in chunks below the
-- protocol's 64 KiB limit.
function send(conn, n, from, rcpts, fields, body)
	mt.macro(conn, SMFIC_MAIL, "i", "TESTQ" .. n)
	local function accepted(what)
		mt.echo("eom " .. n .. ": accept (at " .. what .. ")")
		return "accept"
	end
	if not step(conn, "mail from", mt.mailfrom(conn, "<" .. from .. ">")) then
		return accepted("mail from")
	end
	for _, r in ipairs(rcpts) do
		if not step(conn, "rcpt to", mt.rcptto(conn, "<" .. r .. ">")) then
			return accepted("rcpt to")
		end
	end
	for _, h in ipairs(fields) do
		if not step(conn, "header " .. h.name, mt.header(conn, h.name, h.value)) then
			return accepted("header")
		end
	end
	if not step(conn, "eoh", mt.eoh(conn)) then
		return accepted("eoh")
	end
	local off = 1
	while off <= #body do
		if not step(conn, "body", mt.bodystring(conn, body:sub(off, off + 32767))) then
			return accepted("body")
		end
		off = off + 32768
	end
	local err = mt.eom(conn)
	if err ~= nil then
		error("eom failed: " .. err)
	end
	local r = reply_name(conn)
	mt.echo("eom " .. n .. ": " .. r)
	return r
end

-- run(fn): miltertest exits 1 without a word when a script fails; say why.
function run(fn)
	local ok, err = pcall(fn)
	if not ok then
		mt.echo("error: " .. tostring(err))
		os.exit(1)
	end
end
