#!/bin/sh
# hotline-milter end to end: Debian's miltertest plays Postfix (Lua scripts
# in tests/milter/) against the real daemon.  Mail from the configured
# sender is copied into the queue (via 'milter', with its delivery) and
# every mail continues: one that does not match, one over the size limit,
# one the rules refuse, several in one connection, one after an abandoned
# message.  With the database unreachable the reply follows on_error
# (tempfail, or continue with an error logged); SIGTERM exits 0.
. "$HL_TOP/tests/lib.sh"

samples="$HL_TOP/../shared/samples"
sender=anshin-hot@city.takasaki.example.jp
bridge=line-bridge@city.takasaki.example.jp
db=$(db_new)
conf=$(conf_for "$db")
check "migrate" ctl "$conf" migrate
check "load the demo mail rules" psql -X -q -v ON_ERROR_STOP=1 -1 -d "$db" \
	-f "$HL_TOP/db/demo/0002_mail_rules.sql"

port=$(free_port 1)
socket="inet:$port@127.0.0.1"
# @elsewhere.example is copied too, but the demo rules do not allow it.
printf '[milter]\nlisten = 127.0.0.1:%s\nmatch_senders = %s, @Elsewhere.example\nmax_message_bytes = 65536\n' \
	"$port" "$sender" >>"$conf"
log="$tap_tmp/milter.log"

# start CONF — the daemon in the background; its pid in $pid.
start() {
	"$HL_BIN/hotline-milter" -c "$1" 2>>"$log" &
	pid=$!
}

# stop — SIGTERM; the exit status in $status.
stop() {
	kill -TERM "$pid"
	wait "$pid"
	status=$?
}

# mt SCRIPT VAR=VALUE... — run a tests/milter script (it retries the
# connection while the daemon starts); prints its replies and errors.
mt() {
	s=$1
	shift
	n=$#
	set -- "$@" -D "SOCKET=$socket" -D "HL_TOP=$HL_TOP"
	while [ "$n" -gt 0 ]; do
		set -- "$@" -D "$1"
		shift
		n=$((n - 1))
	done
	miltertest "$@" -s "$HL_TOP/tests/milter/$s" 2>&1
}

# send FROM RCPTS MAIL... — the MAILs as messages of one connection.
send() {
	f=$1
	r=$2
	shift 2
	mt send.lua "FROM=$f" "RCPTS=$r" "MAILS=$*"
}

mails() {
	sql "$db" "SELECT count(*) FROM mails"
}

start "$conf"
out=$(send "$sender" "someone@elsewhere.example,$bridge" "$samples/01-bohan-kurabuchi-iso2022jp.eml")
is "an alert from the configured sender continues" "$out" "eom 1: continue"
is "and is copied into the queue with its delivery" \
	"$(sql "$db" "SELECT via || '|' || status || '|' || message_id || '|' || source_ref || '|' || (delivery_id IS NOT NULL) FROM mails")" \
	"milter|queued|20251120.1540.anshin@city.takasaki.example.jp|TESTQ1|true"
is "with both envelope recipients" \
	"$(sql "$db" "SELECT envelope_from || '|' || array_to_string(envelope_to, ',') FROM mails")" \
	"$sender|someone@elsewhere.example,$bridge"
want=$(sed 's/\r$//; s/$/\r/' "$samples/01-bohan-kurabuchi-iso2022jp.eml" | sha256sum | cut -d' ' -f1)
is "the copy is the mail rebuilt from its headers and body, with CRLF line ends" \
	"$(sql "$db" "SELECT encode(sha256(raw), 'hex') FROM mails")" "$want"
like "the delivery targets the alert's region" \
	"$(sql "$db" "SELECT d.status || '|' || d.target::text FROM deliveries d JOIN mails m ON m.delivery_id = d.id")" \
	'^queued\|.*"kurabuchi"'

out=$(send "$sender" "$bridge" "$samples/01-bohan-kurabuchi-iso2022jp.eml")
is "the same alert again continues" "$out" "eom 1: continue"
is "and is stored once" "$(mails)" 1

sed 's/^Message-ID: <20251122\./Message-ID: <other./' "$samples/03-kasai-haruna-sjis-qp.eml" \
	>"$tap_tmp/other.eml"
out=$(send "mayor@city.takasaki.example.jp" "$bridge" "$tap_tmp/other.eml")
is "mail from another sender is accepted untouched at MAIL FROM" "$out" "eom 1: accept (at mail from)"
is "and is not copied" "$(mails)" 1

out=$(send "$sender" "$bridge" "$samples/02-bosai-all-utf8-base64.eml" \
	"$samples/04-event-shinmachi-utf8-qp.eml")
is "two messages in one connection both continue" "$out" "eom 1: continue
eom 2: continue"
is "and both are copied, each with its own queue id" \
	"$(sql "$db" "SELECT string_agg(source_ref, ',' ORDER BY id) FROM mails WHERE id > 1")" \
	"TESTQ1,TESTQ2"

out=$(mt abort.lua "FROM=$sender" "RCPT=$bridge" "MAIL=$samples/05-kosodate-yoshii-iso2022jp.eml")
is "after an abandoned message the next one on the connection continues" "$out" \
	"eom 1: continue"
is "and only that one is copied, nothing of the abandoned one in it" \
	"$(sql "$db" "SELECT count(*) || '|' || bool_and(position('X-Abandoned' in convert_from(raw, 'SQL_ASCII')) = 0) FROM mails WHERE message_id LIKE '20251124.%'")" \
	"1|true"

{
	sed -n '/^\r*$/q; p' "$samples/06-kotsu-gunma-misato-utf8.eml" |
		sed 's/^Message-ID: <[^>]*>/Message-ID: <big.1@city.takasaki.example.jp>/'
	printf '\r\n'
	head -c 70000 /dev/zero | tr '\0' 'x' | fold -w 76 | sed 's/$/\r/'
} >"$tap_tmp/big.eml"
before=$(mails)
out=$(send "$sender" "$bridge" "$tap_tmp/big.eml")
is "a mail over max_message_bytes continues" "$out" "eom 1: continue"
is "uncopied" "$(mails)" "$before"
like "and the abandoned copy is logged" "$(cat "$log")" \
	'level=warn .*msg="mail too large to copy, it continues uncopied" session=[0-9a-f]+ queue_id=TESTQ1'

sed 's/^Message-ID: <20251125\./Message-ID: <forged./' "$samples/06-kotsu-gunma-misato-utf8.eml" \
	>"$tap_tmp/forged.eml"
out=$(send "someone@elsewhere.example" "$bridge" "$tap_tmp/forged.eml")
is "a copy the rules refuse (sender not allowed) continues all the same" "$out" "eom 1: continue"
is "kept for audit as ignored, without a delivery" \
	"$(sql "$db" "SELECT via || '|' || status || '|' || (delivery_id IS NULL) FROM mails WHERE message_id LIKE 'forged.%'")" \
	"milter|ignored|true"
like "and the refusal is logged" "$(cat "$log")" \
	'level=warn .*msg="mail not copied, it continues" session=[0-9a-f]+ queue_id=TESTQ1 size=[0-9]+ reason="sender not allowed'
stored=$(mails)

stop
is "SIGTERM stops the daemon with status 0" "$status" 0
like "and it says so" "$(tail -n 1 "$log")" 'msg=stopping'

# --- the database is unreachable: on_error decides ----------------------------
dead="$tap_tmp/dead.conf"
sed "s/^conninfo = .*/conninfo = dbname=${db}_missing/" "$conf" >"$dead"
sed "s/^\\[milter\\]\$/[milter]\\non_error = tempfail/" "$dead" >"$dead.tempfail"
start "$dead.tempfail"
out=$(send "$sender" "$bridge" "$samples/06-kotsu-gunma-misato-utf8.eml")
is "with the database down and on_error = tempfail the alert is deferred (Postfix retries)" \
	"$out" "eom 1: tempfail"
out=$(send "mayor@city.takasaki.example.jp" "$bridge" "$tap_tmp/other.eml")
is "while the city's other mail is still accepted untouched" "$out" "eom 1: accept (at mail from)"
stop

sed "s/^\\[milter\\]\$/[milter]\\non_error = accept/" "$dead" >"$dead.accept"
start "$dead.accept"
out=$(send "$sender" "$bridge" "$samples/06-kotsu-gunma-misato-utf8.eml")
is "with on_error = accept the alert continues" "$out" "eom 1: continue"
stop
like "and the missed copy is logged as an error" "$(cat "$log")" \
	'level=error .*msg="alert copy missed, the mail continues \(on_error = accept\)" .*reason='
is "nothing was stored meanwhile" "$(mails)" "$stored"

# --- configuration -------------------------------------------------------------
printf '[milter]\nmatch_senders = a@b,,c@d\n' >"$tap_tmp/bad.conf"
out=$("$HL_BIN/hotline-milter" -c "$tap_tmp/bad.conf" -t 2>&1)
is "a bad match list stops the daemon with EX_CONFIG" "$?" 78
is "saying which key and why" "$out" \
	"hotline-milter: [milter] match_senders: empty entry 2 (two commas, or one at an end)"
empty=$(conf_for "$db" "$(printf '[milter]\nlisten = 127.0.0.1:%s' "$port")")
start "$empty"
out=$(send "$sender" "$bridge" "$samples/06-kotsu-gunma-misato-utf8.eml")
is "without match lists mail is accepted untouched" "$out" "eom 1: accept (at mail from)"
stop
is "with no match list nothing is copied" "$(mails)" "$stored"
like "and a warning says so at start" "$(cat "$log")" 'level=warn .*msg="nothing will be copied"'

log_text=$(cat "$log")
like "copies are logged with the session and queue id" "$log_text" \
	'msg="mail copied" session=[0-9a-f]+ queue_id=TESTQ1 mail_id=[0-9]+ delivery_id=[0-9]+'
unlike "no Japanese text of the alerts in the log" "$log_text" "倉渕|不審|災害"
unlike "no addresses in the log" "$log_text" "anshin-hot|line-bridge|mayor@|someone@"
unlike "no sanitizer report (make asan)" "$log_text" "Sanitizer|runtime error"
tap_done
