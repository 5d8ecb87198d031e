#!/bin/sh
# hotline-milter behind a real Postfix: a private Postfix instance
# (tests/postfix/milter-*.in: its own config, queue, maildirs and log under
# the test's temp directory, loopback only) with smtpd_milters and
# non_smtpd_milters pointing at the real daemon, as etc/postfix/main.cf.milter
# ships it.  Alerts sent by SMTP (swaks) and by Postfix's sendmail are copied
# into the queue (via 'milter', the Postfix queue id as source_ref, with a
# delivery) AND still delivered by Postfix, unchanged; the city's other mail
# passes untouched and is not copied.  With the database down, on_error =
# tempfail makes Postfix answer 4xx to the SMTP client and the alert is taken
# when the client retries after the database is back; on_error = accept lets
# it through uncopied (logged).  With the milter daemon down,
# milter_default_action decides: accept (what etc/postfix ships) delivers
# uncopied, tempfail answers 4xx.
#
# Needs root (Postfix's master runs as root and its daemons as postfix).
# The system Postfix instance is never started or configured.
. "$HL_TOP/tests/lib.sh"

if [ "$(id -u)" != 0 ] || ! command -v postfix >/dev/null 2>&1 || ! command -v swaks >/dev/null 2>&1; then
	echo "1..0 # SKIP needs root, Postfix and swaks (make deps)"
	exit 0
fi

samples="$HL_TOP/../shared/samples"
pf="$tap_tmp/postfix"
bridge=line-bridge@city.takasaki.example.jp
staff=staff@city.takasaki.example.jp
sender=anshin-hot@city.takasaki.example.jp
mayor=mayor@city.takasaki.example.jp
milter_pid=""
db=""

pf_cleanup() {
	if [ -f "$pf/conf/main.cf" ] && postfix -c "$pf/conf" status >/dev/null 2>&1; then
		postfix -c "$pf/conf" stop >/dev/null 2>&1
	fi
	if [ -n "$milter_pid" ]; then
		kill -TERM "$milter_pid" 2>/dev/null && wait "$milter_pid" 2>/dev/null
	fi
	[ -z "$db" ] || psql -X -q -d postgres \
		-c "ALTER DATABASE \"$db\" CONNECTION LIMIT -1" >/dev/null 2>&1
	tap_cleanup
}
trap pf_cleanup EXIT
trap 'exit 1' HUP INT TERM

# Poll (0.2 s steps, at most $2 seconds) until the shell command $1 succeeds.
wait_for() {
	i=0
	until eval "$1"; do
		i=$((i + 1))
		[ $i -lt $(($2 * 5)) ] || return 1
		sleep 0.2
	done
}
queue_empty() { postqueue -c "$pf/conf" -p 2>&1 | grep -q '^Mail queue is empty'; }
# delivered USER — how many mails are in USER's maildir.
delivered() { find "$pf/mail/city/$1/new" -type f 2>/dev/null | wc -l | tr -d ' '; }
mails() { sql "$db" "SELECT count(*) FROM mails"; }

# smtp FROM TO FILE — one mail by SMTP to Postfix; the transcript.
smtp() {
	swaks --server "127.0.0.1:$smtp_port" --helo sender.test --from "$1" \
		--to "$2" --data "@$3" 2>&1
}
# queued TRANSCRIPT — the queue id of Postfix's 250 reply to the message.
queued() { printf '%s\n' "$1" | sed -n 's/^<-  250 2\.0\.0 Ok: queued as \([0-9A-Za-z]*\).*/\1/p'; }

# fresh SAMPLE TAG — a copy of a sample with its own Message-ID; its path.
fresh() {
	b=$(basename "$1" .eml)
	sed "s/^Message-ID: <\([^>]*\)>/Message-ID: <$2.\1>/" "$1" >"$tap_tmp/$2-$b.eml"
	echo "$tap_tmp/$2-$b.eml"
}
# as_delivered FILE — a mail sent with swaks as Postfix stores it in a
# maildir: LF line ends, without the Return-Path header (cleanup drops it
# from the input and the delivery agent writes its own), and with an empty
# last line (swaks sends a CRLF of its own after the file's last line end).
as_delivered() { sed 's/\r$//' "$1" | grep -v '^Return-Path:' && echo; }
# arrived_unchanged USER FILE — the newest mail in USER's maildir ends
# with FILE as sent (Postfix's own headers, Return-Path, X-Original-To,
# Delivered-To and Received, come first).
arrived_unchanged() {
	m=$(ls -t "$pf/mail/city/$1/new/"* | sed 1q)
	as_delivered "$2" >"$tap_tmp/want"
	tail -c "$(wc -c <"$tap_tmp/want")" "$m" | cmp - "$tap_tmp/want"
}

# start_milter CONF — hotline-milter in the background (not in a $(...):
# its pid is needed here); milter_up polls until it listens.
start_milter() {
	"$HL_BIN/hotline-milter" -c "$1" >/dev/null 2>>"$tap_tmp/milter.log" &
	milter_pid=$!
}
milter_up() {
	wait_for "perl -MIO::Socket::INET -e 'exit !IO::Socket::INET->new(PeerAddr => \"127.0.0.1:$milter_port\")' 2>/dev/null" 5
}
stop_milter() {
	kill -TERM "$milter_pid"
	wait "$milter_pid"
	milter_status=$?
	milter_pid=""
}
db_lock() {
	sql "$db" "ALTER DATABASE \"$db\" CONNECTION LIMIT 0;
		SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid()" >/dev/null
}
db_unlock() { sql "$db" "ALTER DATABASE \"$db\" CONNECTION LIMIT -1"; }

# --- hotline-milter on a fresh database with the demo mail rules ---------------
db=$(db_new)
conf=$(conf_for "$db")
check "migrate" ctl "$conf" migrate
check "load the demo mail rules" psql -X -q -v ON_ERROR_STOP=1 -1 -d "$db" \
	-f "$HL_TOP/db/demo/0002_mail_rules.sql"
milter_port=$(free_port 1)
smtp_port=$(free_port 2)
[ "$smtp_port" != "$milter_port" ] || smtp_port=$((milter_port + 1))
printf '[milter]\nlisten = 127.0.0.1:%s\nmatch_senders = %s\n' "$milter_port" "$sender" >>"$conf"
start_milter "$conf"
check "hotline-milter listens" milter_up

# --- a private Postfix instance with the milter ---------------------------------
chmod 0711 "$tap_tmp"
mkdir -p "$pf/conf" "$pf/queue" "$pf/data" "$pf/mail"
uid=$(id -u nobody)
gid=$(id -g nobody)
sed -e "s|@DIR@|$pf|g" -e "s|@SMTP_PORT@|$smtp_port|g" -e "s|@MILTER_PORT@|$milter_port|g" \
	-e "s|@UID@|$uid|g" -e "s|@GID@|$gid|g" "$HL_TOP/tests/postfix/milter-main.cf.in" >"$pf/conf/main.cf"
sed -e "s|@SMTP_PORT@|$smtp_port|g" "$HL_TOP/tests/postfix/milter-master.cf.in" >"$pf/conf/master.cf"
sed -e "s|@DIR@|$pf|g" "$HL_TOP/tests/postfix/vmailbox.in" >"$pf/conf/vmailbox"
chown postfix "$pf/data"
chown "$uid:$gid" "$pf/mail"
check "postfix check accepts the private instance's configuration" \
	sh -c "postfix -c '$pf/conf' check 2>&1 && ! postfix -c '$pf/conf' check 2>&1 | grep ."
check "the private Postfix starts" postfix -c "$pf/conf" start
check "Postfix listens for SMTP on loopback" wait_for \
	"swaks --server 127.0.0.1:$smtp_port --quit-after CONNECT >/dev/null 2>&1" 10

# --- alerts by SMTP: copied and delivered ----------------------------------------
n=0
qids=""
for f in "$samples"/0*.eml; do
	out=$(smtp "$sender" "$bridge" "$f")
	q=$(queued "$out")
	like "Postfix takes $(basename "$f") through the milter (250)" "$out" \
		"<-  250 2\.0\.0 Ok: queued as "
	qids="$qids$q
"
	n=$((n + 1))
done
is "every alert is copied once, via the milter, each with a delivery" \
	"$(sql "$db" "SELECT count(*) || '|' || count(DISTINCT message_id) || '|' ||
		count(*) FILTER (WHERE via = 'milter' AND delivery_id IS NOT NULL AND
			envelope_from = '$sender' AND envelope_to = '{$bridge}') FROM mails")" \
	"$n|$n|$n"
is "each copy carries the Postfix queue id of its mail" \
	"$(sql "$db" "SELECT source_ref FROM mails" | sort)" \
	"$(printf '%s' "$qids" | sort)"
expected=$(for f in "$samples"/0*.eml; do
	sed -n 's/^Message-ID: <\(.*\)>.*/\1/p' "$f"
done | sort)
is "the copies' Message-IDs are the samples'" \
	"$(sql "$db" "SELECT message_id FROM mails ORDER BY message_id" | sort)" "$expected"
check "and Postfix still delivers every alert (queue drains, at most 30 s)" wait_for queue_empty 30
is "into the bridge's mailbox, one each" "$(delivered line-bridge)" "$n"
check "an alert arrives unchanged by the milter" \
	arrived_unchanged line-bridge "$samples/06-kotsu-gunma-misato-utf8.eml"
# The body after the first empty line, CRLF, plus swaks's empty last line.
want=$({
	sed -n '/^\r*$/,$p' "$samples/06-kotsu-gunma-misato-utf8.eml" | sed 1d | sed 's/\r$//; s/$/\r/'
	printf '\r\n'
} | sha256sum | cut -d' ' -f1)
is "the copy's body is the mail's body byte for byte (CRLF)" \
	"$(sql "$db" "SELECT encode(sha256(substring(raw from position('\x0d0a0d0a'::bytea in raw) + 4)), 'hex')
		FROM mails WHERE message_id LIKE '20251125.%'")" "$want"

# --- the city's ordinary mail: untouched, not copied --------------------------------
before=$(mails)
other=$(fresh "$samples/03-kasai-haruna-sjis-qp.eml" ordinary)
out=$(smtp "$mayor" "$staff" "$other")
like "ordinary mail from another sender is taken (250)" "$out" "<-  250 2\.0\.0 Ok: queued as "
check "and delivered" wait_for '[ "$(delivered staff)" = 1 ]' 30
check "unchanged" arrived_unchanged staff "$other"
is "and not copied" "$(mails)" "$before"
out=$(smtp "$mayor" "$bridge" "$(fresh "$samples/04-event-shinmachi-utf8-qp.eml" mayor)")
like "mail from another sender to the bridge address is taken too (250)" "$out" \
	"<-  250 2\.0\.0 Ok: queued as "
is "and not copied either: only the sender counts here" "$(mails)" "$before"

# --- non_smtpd_milters: mail submitted with Postfix's sendmail --------------------------
local_alert=$(fresh "$samples/02-bosai-all-utf8-base64.eml" local)
check "Postfix's sendmail takes an alert (pickup -> cleanup -> milter)" \
	sendmail -C "$pf/conf" -f "$sender" "$bridge" <"$local_alert"
check "it is copied (non_smtpd_milters, at most 30 s)" wait_for \
	"[ \"\$(sql '$db' \"SELECT count(*) FROM mails WHERE message_id LIKE 'local.%' AND via = 'milter' AND delivery_id IS NOT NULL\")\" = 1 ]" 30
check "and delivered" wait_for queue_empty 30
is "the bridge's mailbox has it too" "$(delivered line-bridge)" "$((n + 2))"

# --- the database down, on_error = tempfail (the default) ------------------------------
check "hotline's role is locked out of its database" db_lock
mb=$(delivered line-bridge)
ms=$(delivered staff)
outage=$(fresh "$samples/01-bohan-kurabuchi-iso2022jp.eml" outage)
out=$(smtp "$sender" "$bridge" "$outage")
like "with the database down Postfix answers the SMTP client 4xx for an alert" "$out" \
	"<\*\* 4[0-9][0-9] 4\.[0-9.]+ "
unlike "and does not take it" "$out" "Ok: queued as"
like "the milter logs the deferral" "$(cat "$tap_tmp/milter.log")" \
	'level=warn .*msg="mail deferred, Postfix retries it"'
out=$(smtp "$mayor" "$staff" "$(fresh "$samples/05-kosodate-yoshii-iso2022jp.eml" during)")
like "while the city's other mail is taken as usual" "$out" "<-  250 2\.0\.0 Ok: queued as "
check "and delivered" wait_for "[ \"\$(delivered staff)\" = $((ms + 1)) ]" 30
check "the database comes back" db_unlock
out=$(smtp "$sender" "$bridge" "$outage")
like "the client's retry is taken (250)" "$out" "<-  250 2\.0\.0 Ok: queued as "
is "and copied exactly once" \
	"$(sql "$db" "SELECT count(*) || '|' || count(delivery_id) FROM mails WHERE message_id LIKE 'outage.%'")" "1|1"
check "and delivered exactly once" wait_for "queue_empty && [ \"\$(delivered line-bridge)\" = $((mb + 1)) ]" 30

# --- the database down, on_error = accept ------------------------------------------------
stop_milter
sed "s/^\\[milter\\]\$/[milter]\\non_error = accept/" "$conf" >"$tap_tmp/accept.conf"
start_milter "$tap_tmp/accept.conf"
check "hotline-milter restarts with on_error = accept" milter_up
check "hotline's role is locked out again" db_lock
mb=$(delivered line-bridge)
before=$(mails)
missed=$(fresh "$samples/06-kotsu-gunma-misato-utf8.eml" missed)
out=$(smtp "$sender" "$bridge" "$missed")
like "with on_error = accept the alert is taken (250)" "$out" "<-  250 2\.0\.0 Ok: queued as "
check "and delivered" wait_for "[ \"\$(delivered line-bridge)\" = $((mb + 1)) ]" 30
like "the missed copy is logged as an error" "$(cat "$tap_tmp/milter.log")" \
	'level=error .*msg="alert copy missed, the mail continues \(on_error = accept\)"'
check "the database comes back" db_unlock
is "nothing was copied meanwhile" "$(mails)" "$before"

# --- the milter daemon down: milter_default_action decides -------------------------------
stop_milter
is "hotline-milter stops with status 0" "$milter_status" 0
mb=$(delivered line-bridge)
out=$(smtp "$sender" "$bridge" "$(fresh "$samples/02-bosai-all-utf8-base64.eml" nomilter)")
like "milter_default_action = accept (as shipped): the alert is taken (250)" "$out" \
	"<-  250 2\.0\.0 Ok: queued as "
check "and delivered, uncopied" wait_for "[ \"\$(delivered line-bridge)\" = $((mb + 1)) ]" 30
is "nothing copied" "$(sql "$db" "SELECT count(*) FROM mails WHERE message_id LIKE 'nomilter.%'")" 0
like "Postfix logs that it could not reach the milter" "$(cat "$pf/maillog")" \
	"warning: connect to Milter service inet:127\.0\.0\.1:$milter_port: Connection refused"

check "milter_default_action = tempfail" postconf -c "$pf/conf" -e milter_default_action=tempfail
check "postfix reload" postfix -c "$pf/conf" reload
sleep 1
held=$(fresh "$samples/03-kasai-haruna-sjis-qp.eml" held)
out=$(smtp "$sender" "$bridge" "$held")
like "milter_default_action = tempfail: the alert gets 4xx" "$out" "<\*\* 4[0-9][0-9] "
out=$(smtp "$mayor" "$staff" "$(fresh "$samples/04-event-shinmachi-utf8-qp.eml" held)")
like "and so does the city's other mail (why accept is what we ship)" "$out" "<\*\* 4[0-9][0-9] "
start_milter "$conf"
check "hotline-milter comes back" milter_up
out=$(smtp "$sender" "$bridge" "$held")
like "the client's retry is taken (250)" "$out" "<-  250 2\.0\.0 Ok: queued as "
is "and copied" "$(sql "$db" "SELECT count(*) FROM mails WHERE message_id LIKE 'held.%' AND via = 'milter'")" 1

# --- shut down: no process left behind ---------------------------------------------------
check "the queue is empty at the end (at most 30 s)" wait_for queue_empty 30
is "nothing bounced" "$(grep -c 'status=bounced' "$pf/maillog")" 0
master=$(sed 1q "$pf/queue/pid/master.pid" | tr -d ' ')
check "Postfix stops" postfix -c "$pf/conf" stop
is "no Postfix process of this instance is left" \
	"$(ps -eo pgid=,stat=,comm= | awk -v g="$master" '$1 == g && $2 !~ /^Z/')" ""
stop_milter
is "hotline-milter stops cleanly" "$milter_status" 0
log_text=$(cat "$tap_tmp/milter.log")
like "copies are logged with the Postfix queue id" "$log_text" \
	"msg=\"mail copied\" session=[0-9a-f]+ queue_id=$(printf '%s' "$qids" | sed 1q) "
unlike "no Japanese text of the alerts in hotline's log" "$log_text" "倉渕|不審|火災"
unlike "no addresses in hotline's log" "$log_text" "anshin-hot|line-bridge|mayor@|staff@"
unlike "no sanitizer report (make asan)" "$log_text" "Sanitizer|runtime error"
tap_done
