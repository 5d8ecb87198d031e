#!/bin/sh
# A real Postfix in front of hotline-lmtpd: a private Postfix instance
# (tests/postfix/*.in: its own config, queue and data directories and log
# under the test's temp directory, SMTP and LMTP on loopback only) receives
# the sample alerts by SMTP and delivers them over LMTP to the real daemon,
# with the transport and service of etc/postfix/.  Assertions are on
# Postfix's queue and log and on the database.  Then the database goes away
# for hotline's role mid-stream: Postfix gets 451 and keeps the mail, and
# after the database is back every mail is stored exactly once.
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
sender=anshin-hot@city.takasaki.example.jp
lmtpd_pid=""
db=""

# Whatever happens, stop Postfix and hotline-lmtpd and give the role back
# its database before the temp directory and databases go.
pf_cleanup() {
	# "postfix stop" waits for the master and kills it after 5 s.
	if [ -f "$pf/conf/main.cf" ] && postfix -c "$pf/conf" status >/dev/null 2>&1; then
		postfix -c "$pf/conf" stop >/dev/null 2>&1
	fi
	if [ -n "$lmtpd_pid" ]; then
		kill -TERM "$lmtpd_pid" 2>/dev/null && wait "$lmtpd_pid" 2>/dev/null
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
queue_count() { postqueue -c "$pf/conf" -p 2>/dev/null | grep -c '^[0-9A-F][0-9A-F]*[*!]\{0,1\} '; }

# send FILE — one mail by SMTP to Postfix; the transcript.
send() {
	swaks --server "127.0.0.1:$smtp_port" --helo sender.test --from "$sender" \
		--to "$bridge" --data "@$1" 2>&1
}

# --- hotline-lmtpd on a fresh database with the demo mail rules ---------------
db=$(db_new)
conf=$(conf_for "$db")
check "migrate" ctl "$conf" migrate
check "load the demo mail rules" psql -X -q -v ON_ERROR_STOP=1 -1 -d "$db" \
	-f "$HL_TOP/db/demo/0002_mail_rules.sql"
lmtp_port=$(free_port 1)
smtp_port=$(free_port 2)
[ "$smtp_port" != "$lmtp_port" ] || smtp_port=$((lmtp_port + 1))
printf '[lmtp]\nlisten = 127.0.0.1:%s\nhostname = lmtp.test\n' "$lmtp_port" >>"$conf"
"$HL_BIN/hotline-lmtpd" -c "$conf" 2>"$tap_tmp/lmtpd.log" &
lmtpd_pid=$!
check "hotline-lmtpd listens" wait_for \
	"swaks --server 127.0.0.1:$lmtp_port --protocol LMTP --quit-after CONNECT >/dev/null 2>&1" 5

# --- a private Postfix instance ------------------------------------------------
# Postfix's daemons run as "postfix" and must reach the queue through the
# temp directory, which mktemp made 0700.
chmod 0711 "$tap_tmp"
mkdir -p "$pf/conf" "$pf/queue" "$pf/data"
for f in main.cf master.cf transport; do
	sed -e "s|@DIR@|$pf|g" -e "s|@SMTP_PORT@|$smtp_port|g" -e "s|@LMTP_PORT@|$lmtp_port|g" \
		"$HL_TOP/tests/postfix/$f.in" >"$pf/conf/$f"
done
chown postfix "$pf/data"
# "postfix check" creates the queue's subdirectories with their owners and
# modes; its complaints are the diagnostics when start-up fails.
check "postfix check accepts the private instance's configuration" \
	sh -c "postfix -c '$pf/conf' check 2>&1 && ! postfix -c '$pf/conf' check 2>&1 | grep ."
check "the private Postfix starts" postfix -c "$pf/conf" start
check "Postfix listens for SMTP on loopback" wait_for \
	"swaks --server 127.0.0.1:$smtp_port --quit-after CONNECT >/dev/null 2>&1" 10

# --- every sample through Postfix into hotline ----------------------------------
n=0
for f in "$samples"/0*.eml; do
	out=$(send "$f")
	like "Postfix queues $(basename "$f")" "$out" "<-  250 2\.0\.0 Ok: queued as "
	n=$((n + 1))
done
check "Postfix's queue drains into hotline-lmtpd (at most 30 s)" wait_for queue_empty 30
is "one mail per sample, stored once, via LMTP, each with a delivery" \
	"$(sql "$db" "SELECT count(*) || '|' || count(DISTINCT message_id) || '|' ||
		count(*) FILTER (WHERE via = 'lmtp' AND delivery_id IS NOT NULL) FROM mails")" \
	"$n|$n|$n"
expected=$(for f in "$samples"/0*.eml; do
	sed -n 's/^Message-ID: <\(.*\)>.*/\1/p' "$f"
done | sort)
is "the stored Message-IDs are the samples'" \
	"$(sql "$db" "SELECT message_id FROM mails ORDER BY message_id" | sort)" "$expected"
is "every delivery exists and is queued or held" \
	"$(sql "$db" "SELECT count(*) FROM mails m JOIN deliveries d ON d.id = m.delivery_id
		WHERE d.status IN ('queued', 'held')")" "$n"
log=$(cat "$pf/maillog")
is "Postfix logged a 250 from hotline for every sample" \
	"$(printf '%s\n' "$log" | grep -c "relay=127\.0\.0\.1\[127\.0\.0\.1\]:$lmtp_port.*status=sent (250 2\.0\.0 <$bridge> \(queued as\|held for approval as\) delivery [0-9]*)")" \
	"$n"
unlike "no warning or error from Postfix (none about the LMTP conversation either)" "$log" \
	"(warning|error|fatal|panic): |protocol error|lost connection|conversation with"

# --- the database goes away mid-stream -----------------------------------------
# hotline's role may no longer connect to its database, and its open
# connections are cut (the shared cluster keeps running for other tests):
# hotline must answer 451 4.3.0 and Postfix must keep the mail.
check "hotline's role is locked out of its database" sql "$db" \
	"ALTER DATABASE \"$db\" CONNECTION LIMIT 0;
	 SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
	 WHERE datname = current_database() AND pid <> pg_backend_pid()"
ids=""
for f in "$samples"/01-*.eml "$samples"/03-*.eml "$samples"/06-*.eml; do
	b=$(basename "$f" .eml)
	sed "s/^Message-ID: <\([^>]*\)>/Message-ID: <outage-$$.\1>/" "$f" >"$tap_tmp/$b.eml"
	ids="$ids outage-$$.$(sed -n 's/^Message-ID: <\(.*\)>.*/\1/p' "$f")"
	out=$(send "$tap_tmp/$b.eml")
	like "during the outage Postfix still takes $b" "$out" "<-  250 2\.0\.0 Ok: queued as "
done
deferred451() { grep -c "status=deferred (host 127\.0\.0\.1\[127\.0\.0\.1\] said: 451 4\.3\.0 <$bridge>" "$pf/maillog"; }
check "hotline answers 451 4.3.0 and Postfix defers all 3 (maillog)" wait_for \
	'[ "$(deferred451)" -ge 3 ]' 20
is "the 3 mails stay in Postfix's queue" "$(queue_count)" 3
is "and none of them is in the database" \
	"$(sql "$db" "SELECT count(*) FROM mails WHERE message_id LIKE 'outage-%'")" 0
sleep 2
is "Postfix retries and still keeps all 3 (nothing bounced)" "$(queue_count)|$(grep -c 'status=bounced' "$pf/maillog")" "3|0"

check "the database comes back" sql "$db" "ALTER DATABASE \"$db\" CONNECTION LIMIT -1"
check "postqueue -f flushes the queue" postqueue -c "$pf/conf" -f
check "the deferred mail drains into hotline (at most 30 s)" wait_for queue_empty 30
for id in $ids; do
	is "$id is stored exactly once" \
		"$(sql "$db" "SELECT count(*) || '|' || count(delivery_id) FROM mails WHERE message_id = '$id'")" "1|1"
done
is "nothing lost, nothing doubled: $((n + 3)) mails, $((n + 3)) deliveries" \
	"$(sql "$db" "SELECT count(*) || '|' || count(DISTINCT message_id) || '|' || count(delivery_id) FROM mails")" \
	"$((n + 3))|$((n + 3))|$((n + 3))"

# --- shut down: no process left behind ------------------------------------------
master=$(sed 1q "$pf/queue/pid/master.pid" | tr -d ' ')
check "Postfix stops" postfix -c "$pf/conf" stop
# (Zombies do not count: in a container whose PID 1 does not reap, the
# stopped daemons stay as <defunct> entries.)
is "no Postfix process of this instance is left" \
	"$(ps -eo pgid=,stat=,comm= | awk -v g="$master" '$1 == g && $2 !~ /^Z/')" ""
kill -TERM "$lmtpd_pid"
wait "$lmtpd_pid"
is "hotline-lmtpd stops cleanly" "$?" 0
lmtpd_pid=""
unlike "no Japanese text of the alerts in hotline's log" "$(cat "$tap_tmp/lmtpd.log")" "倉渕|不審|火災"
tap_done
