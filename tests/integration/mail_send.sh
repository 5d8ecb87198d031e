#!/bin/sh
# hotlinectl mail send: a mail file handed to the real hotline-lmtpd by LMTP.
# Every sample becomes a delivery; a file with bare LF line ends, lines that
# start with "." and no final line end is stored byte for byte (as CRLF
# lines); the exit status follows the reply (0 for 250, 75 for 4xx or no
# receiver, 65 for 5xx), and each recipient's reply is printed in words.
. "$HL_TOP/tests/lib.sh"

samples="$HL_TOP/../shared/samples"
sender=anshin-hot@city.takasaki.example.jp
bridge=line-bridge@city.takasaki.example.jp
db=""
lmtpd_pid=""

ms_cleanup() {
	if [ -n "$lmtpd_pid" ]; then
		kill -TERM "$lmtpd_pid" 2>/dev/null && wait "$lmtpd_pid" 2>/dev/null
	fi
	[ -z "$db" ] || psql -X -q -d postgres \
		-c "ALTER DATABASE \"$db\" CONNECTION LIMIT -1" >/dev/null 2>&1
	tap_cleanup
}
trap ms_cleanup EXIT
trap 'exit 1' HUP INT TERM

db=$(db_new)
conf=$(conf_for "$db")
check "migrate" ctl "$conf" migrate
check "load the demo mail rules" psql -X -q -v ON_ERROR_STOP=1 -1 -d "$db" \
	-f "$HL_TOP/db/demo/0002_mail_rules.sql"
port=$(free_port 1)
printf '[lmtp]\nlisten = 127.0.0.1:%s\nhostname = lmtp.test\nmax_message_bytes = 65536\n' "$port" >>"$conf"

# send ARGS... — hotlinectl mail send; its output (stdout and stderr) in
# $out, its exit status in $rc.
send() {
	out=$(ctl "$conf" mail send "$@" 2>&1)
	rc=$?
}

# --- no receiver yet --------------------------------------------------------------
send "$samples/01-bohan-kurabuchi-iso2022jp.eml"
is "with no receiver running: EX_TEMPFAIL (75)" "$rc" 75
like "and a clear message naming the address" "$out" \
	"cannot connect to hotline-lmtpd at 127\.0\.0\.1:$port: Connection refused"
like "and what to check" "$out" "is hotline-lmtpd running"

"$HL_BIN/hotline-lmtpd" -c "$conf" 2>"$tap_tmp/lmtpd.log" &
lmtpd_pid=$!
i=0
until swaks --server "127.0.0.1:$port" --protocol LMTP --quit-after CONNECT >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 50 ] || break
	sleep 0.1
done

# --- every sample becomes a delivery ------------------------------------------------
n=0
for f in "$samples"/0*.eml; do
	send "$f"
	is "$(basename "$f"): exit 0" "$rc" 0
	like "$(basename "$f"): the reply in words" "$out" \
		"^hotlinectl@localhost: accepted \(250 2\.0\.0 <hotlinectl@localhost> queued as delivery [0-9]+\)$"
	n=$((n + 1))
done
is "one mail per sample, via LMTP, each with a delivery, sender from the mail's From" \
	"$(sql "$db" "SELECT count(*) || '|' || count(DISTINCT message_id) || '|' ||
		count(*) FILTER (WHERE via = 'lmtp' AND delivery_id IS NOT NULL AND
			envelope_from = '$sender' AND envelope_to = '{hotlinectl@localhost}') FROM mails")" \
	"$n|$n|$n"
want=$(sed 's/\r$//; s/$/\r/' "$samples/03-kasai-haruna-sjis-qp.eml" | sha256sum | cut -d' ' -f1)
is "a CRLF sample is stored byte for byte" \
	"$(sql "$db" "SELECT encode(sha256(raw), 'hex') FROM mails WHERE message_id LIKE '20251122.%'")" \
	"$want"

send "$samples/01-bohan-kurabuchi-iso2022jp.eml" --to "$bridge" --to "other@city.takasaki.example.jp"
is "the same sample again, to two recipients: exit 0" "$rc" 0
is "one line per recipient" "$out" \
	"$bridge: accepted (250 2.0.0 <$bridge> already accepted)
other@city.takasaki.example.jp: accepted (250 2.0.0 <other@city.takasaki.example.jp> already accepted)"
is "and it is not stored twice" "$(sql "$db" "SELECT count(*) FROM mails")" "$n"

# --- dot-stuffing and line ends -------------------------------------------------------
# Bare LF line ends, lines that start with "." (one of them a lone "."
# that would end DATA unstuffed) and no line end after the last line.
printf 'From: %s\nTo: %s\nSubject: dots\nMessage-ID: <dots.%s@test>\n\n.hello\n..two dots\n.\n. \nlast line without a line end' \
	"$sender" "$bridge" "$$" >"$tap_tmp/dots.eml"
send "$tap_tmp/dots.eml" --to "$bridge" --from "$sender"
is "a bare-LF file with dot lines and no final newline: exit 0" "$rc" 0
want=$(printf 'From: %s\r\nTo: %s\r\nSubject: dots\r\nMessage-ID: <dots.%s@test>\r\n\r\n.hello\r\n..two dots\r\n.\r\n. \r\nlast line without a line end\r\n' \
	"$sender" "$bridge" "$$" | sha256sum | cut -d' ' -f1)
is "stored byte for byte as CRLF lines, dots intact, a CRLF after the last line" \
	"$(sql "$db" "SELECT encode(sha256(raw), 'hex') FROM mails WHERE message_id = 'dots.$$@test'")" \
	"$want"
is "the body as the rules saw it keeps the dot lines" \
	"$(sql "$db" "SELECT position(E'.hello\n..two dots\n.\n' in body) > 0 FROM mails WHERE message_id = 'dots.$$@test'")" \
	"t"

# --- refusals: 5xx -> 65 --------------------------------------------------------------
sed 's/^Message-ID: <20251125\./Message-ID: <evil./' "$samples/06-kotsu-gunma-misato-utf8.eml" \
	>"$tap_tmp/evil.eml"
send "$tap_tmp/evil.eml" --from mallory@elsewhere.example --to "$bridge"
is "a sender the rules do not allow: EX_DATAERR (65)" "$rc" 65
is "with the receiver's reason in words" "$out" \
	"$bridge: refused, it will never be accepted (554 5.6.0 <$bridge> sender not allowed by the mail rules)"
printf 'no header here, just text\n' >"$tap_tmp/junk.eml"
send "$tap_tmp/junk.eml" --from "$sender"
is "not a mail at all: 65" "$rc" 65
send "$tap_tmp/junk.eml"
is "no From address and no --from: EX_USAGE (64)" "$rc" 64
like "saying to give --from" "$out" "give --from SENDER"
{
	printf 'From: %s\nSubject: big\nMessage-ID: <big.%s@test>\n\n' "$sender" "$$"
	head -c 70000 /dev/zero | tr '\0' 'x' | fold -w 76
} >"$tap_tmp/big.eml"
send "$tap_tmp/big.eml"
is "a mail over the receiver's size limit: 65" "$rc" 65
like "refused at MAIL FROM, from the SIZE= announced" "$out" \
	"^MAIL FROM:<$sender>: refused, the mail will never be accepted \(552 5\.3\.4 message size [0-9]+ exceeds the limit of 65536 bytes\)$"
send "$tap_tmp/missing.eml"
is "a file that is not there: EX_NOINPUT (66)" "$rc" 66
send "$tap_tmp/dots.eml" --from 'a@b>
RSET'
is "an address that would break the command line is refused before sending: 64" "$rc" 64

# --- --lmtp overrides the configured address ----------------------------------------------
dead=$(free_port 3)
send "$samples/02-bosai-all-utf8-base64.eml" --lmtp "127.0.0.1:$dead"
is "--lmtp to an address nobody listens on: 75" "$rc" 75
like "naming that address" "$out" "at 127\.0\.0\.1:$dead:"
other="$tap_tmp/other.conf"
sed "s/^listen = .*/listen = 127.0.0.1:$dead/" "$conf" >"$other"
sed 's/^Message-ID: <20251125\./Message-ID: <override./' "$samples/06-kotsu-gunma-misato-utf8.eml" \
	>"$tap_tmp/override.eml"
out=$("$HL_BIN/hotlinectl" -c "$other" mail send "$tap_tmp/override.eml" --lmtp "127.0.0.1:$port" 2>&1)
is "--lmtp to the running receiver, whatever the config says: 0" "$?" 0

# --- the database goes away: 4xx -> 75 --------------------------------------------------
check "hotline's role is locked out of its database" sql "$db" \
	"ALTER DATABASE \"$db\" CONNECTION LIMIT 0;
	 SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
	 WHERE datname = current_database() AND pid <> pg_backend_pid()"
sed 's/^Message-ID: <20251125\./Message-ID: <outage./' "$samples/06-kotsu-gunma-misato-utf8.eml" \
	>"$tap_tmp/outage.eml"
send "$tap_tmp/outage.eml" --to "$bridge"
is "with the database unreachable: EX_TEMPFAIL (75)" "$rc" 75
like "the reply says try again later" "$out" \
	"^$bridge: not accepted now, try again later \(451 4\.3\.0 <$bridge> "
check "the database comes back" sql "$db" "ALTER DATABASE \"$db\" CONNECTION LIMIT -1"
send "$tap_tmp/outage.eml" --to "$bridge"
is "sent again: 0" "$rc" 0
is "and stored once" "$(sql "$db" "SELECT count(*) FROM mails WHERE message_id LIKE 'outage.%'")" 1

kill -TERM "$lmtpd_pid"
wait "$lmtpd_pid"
is "hotline-lmtpd stops cleanly" "$?" 0
lmtpd_pid=""
unlike "no sanitizer report (make asan)" "$(cat "$tap_tmp/lmtpd.log")" "Sanitizer|runtime error"
tap_done
