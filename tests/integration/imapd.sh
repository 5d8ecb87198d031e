#!/bin/sh
# hotline-imapd against a real Dovecot: a private instance started here
# (tests/imap/dovecot.conf.in: config, sockets, log and maildirs under the
# test's temp directory, loopback ports, one passwd-file user, a CA and
# server certificate made with openssl just now; the system Dovecot is
# never started).  Mail is put in with `doveadm save`, and assertions
# are on the database and on the mailbox as IMAP shows it: the samples
# become queued deliveries (via imap) and are flagged \Seen, IDLE and
# polling both notice new mail, move and delete, a kill -9 in the middle of
# a batch neither loses nor repeats a mail, a UIDVALIDITY change brings no
# duplicate, a mail refused for good does not loop, an untrusted
# certificate and a wrong password are refused with a clear log line and
# retried, and a database outage leaves the mail on the server until the
# database is back.
. "$HL_TOP/tests/lib.sh"

if ! command -v dovecot >/dev/null 2>&1 || ! command -v openssl >/dev/null 2>&1; then
	echo "1..0 # SKIP needs Dovecot (dovecot-imapd) and openssl (make deps)"
	exit 0
fi

samples="$HL_TOP/../shared/samples"
dv="$tap_tmp/dovecot"
imapd_pid=""
db=""

# Whatever happens, stop Dovecot and the daemon and give the role back its
# database before the temp directory and databases go.
im_cleanup() {
	if [ -n "$imapd_pid" ]; then
		kill -KILL "$imapd_pid" 2>/dev/null
		wait "$imapd_pid" 2>/dev/null
	fi
	if [ -f "$dv/run/master.pid" ]; then
		dpid=$(cat "$dv/run/master.pid")
		kill -TERM "$dpid" 2>/dev/null
		i=0
		while kill -0 "$dpid" 2>/dev/null && [ $i -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
	fi
	[ -z "$db" ] || psql -X -q -d postgres \
		-c "ALTER DATABASE \"$db\" CONNECTION LIMIT -1" >/dev/null 2>&1
	tap_cleanup
}
trap im_cleanup EXIT
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

db=$(db_new)
conf=$(conf_for "$db")
check "migrate" ctl "$conf" migrate
check "load the demo mail rules" psql -X -q -v ON_ERROR_STOP=1 -1 -d "$db" \
	-f "$HL_TOP/db/demo/0002_mail_rules.sql"

# --- a private Dovecot ---------------------------------------------------------
mkdir -p "$dv/mail" "$dv/home"
if [ "$(id -u)" = 0 ]; then
	# Dovecot's login processes refuse root and its mail processes uid 0:
	# the package's users, who must be able to reach the temp directory.
	iuser=dovecot
	igroup=$(id -gn dovecot)
	luser=dovenull
	chmod 711 "$tap_tmp" "$dv"
	chown dovecot:"$igroup" "$dv/mail" "$dv/home"
else
	iuser=$(id -un)
	igroup=$(id -gn)
	luser=$iuser
fi
tls_port=$(free_port 1)
plain_port=$(free_port 2)
[ "$plain_port" != "$tls_port" ] || plain_port=$((tls_port + 1))
sed -e "s#@DIR@#$dv#g" -e "s/@INTERNAL_USER@/$iuser/g" -e "s/@INTERNAL_GROUP@/$igroup/g" \
	-e "s/@LOGIN_USER@/$luser/g" -e "s/@UID@/$(id -u "$iuser")/g" \
	-e "s/@GID@/$(id -g "$iuser")/g" -e "s/@PORT_TLS@/$tls_port/g" \
	-e "s/@PORT_PLAIN@/$plain_port/g" "$HL_TOP/tests/imap/dovecot.conf.in" >"$dv/dovecot.conf"
password="imap-test-$$-pw"
printf 'alerts:{PLAIN}%s\n' "$password" >"$dv/passwd"

# A CA of our own and a server certificate for localhost and 127.0.0.1; a
# second CA that signed nothing here plays "the wrong CA".
(
	cd "$dv" &&
		openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 \
			-subj /CN=hotline-test-ca &&
		openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr \
			-subj /CN=localhost &&
		printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >server.ext &&
		openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
			-out server.crt -days 2 -extfile server.ext &&
		openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other-ca.crt \
			-days 2 -subj /CN=some-other-ca
) >"$tap_tmp/openssl.log" 2>&1 || {
	not_ok "make the test certificates" "$(cat "$tap_tmp/openssl.log")"
	tap_done
}

dovecot -c "$dv/dovecot.conf" >"$tap_tmp/dovecot-start.log" 2>&1
url="imaps://127.0.0.1:$tls_port"
# imap CMD [MAILBOX] — one IMAP command with curl; the untagged replies.
imap() {
	curl -sS --max-time 10 --cacert "$dv/ca.crt" -u "alerts:$password" "$url/${2:-INBOX}" -X "$1"
}
if wait_for 'imap NOOP >/dev/null 2>&1' 10; then
	ok "a private Dovecot answers IMAPS on 127.0.0.1:$tls_port"
else
	not_ok "a private Dovecot answers IMAPS on 127.0.0.1:$tls_port" \
		"$(cat "$tap_tmp/dovecot-start.log" "$dv/dovecot.log" 2>/dev/null)"
	tap_done
fi

# append FILE [MAILBOX] — put a mail in, unseen, with Dovecot's own tool
# (curl's APPEND would flag it \Seen, hiding what the daemon does).
append() {
	doveadm -c "$dv/dovecot.conf" save -u alerts -m "${2:-INBOX}" <"$1"
}
# mail TAG — sample 01 with Message-ID <TAG.anshin@...>, as a file; prints its path.
mail() {
	sed "s/^Message-ID: <20251120\.1540\./Message-ID: <$1./" \
		"$samples/01-bohan-kurabuchi-iso2022jp.eml" >"$tap_tmp/$1.eml"
	echo "$tap_tmp/$1.eml"
}
count() { sql "$db" "SELECT count(*) FROM mails WHERE $1"; }
# uids SEARCH-KEY [MAILBOX] — the UIDs of the matching messages.
uids() { imap "UID SEARCH $1" "${2:-INBOX}" | tr -d '\r' | sed -n 's/^\* SEARCH *//p'; }

# imapd_conf NAME EXTRA — a configuration with [imap] on, plus EXTRA lines.
base_imap="[imap]
enabled = yes
host = 127.0.0.1
port = $tls_port
ca_file = $dv/ca.crt
user = alerts
timeout_seconds = 10"
imapd_conf() {
	sed -n '1,/^migrations_dir/p' "$conf" >"$tap_tmp/$1.conf"
	printf '%s\n%s\n' "$base_imap" "$2" >>"$tap_tmp/$1.conf"
	echo "$tap_tmp/$1.conf"
}
# start CONF LOG — run the daemon in the background with the password.
start() {
	HOTLINE_IMAP_PASSWORD=$password "$HL_BIN/hotline-imapd" -c "$1" 2>>"$2" &
	imapd_pid=$!
}
# stop — SIGTERM; the exit status.
stop() {
	kill -TERM "$imapd_pid"
	wait "$imapd_pid"
	rc=$?
	imapd_pid=""
	return $rc
}

# --- configuration ----------------------------------------------------------------
c_seen=$(imapd_conf seen "idle = yes")
out=$(HOTLINE_IMAP_PASSWORD=$password "$HL_BIN/hotline-imapd" -c "$c_seen" -t 2>&1)
is "-t checks the configuration and the password" "$out" "hotline-imapd: configuration ok"
out=$("$HL_BIN/hotline-imapd" -c "$c_seen" -t 2>&1)
is "without a password: exit 78" "$?" 78
like "naming where the password comes from" "$out" \
	"the IMAP password is not set: set the environment variable HOTLINE_IMAP_PASSWORD or \[imap\] password_file"

# --- the samples: fetched, queued, \Seen ------------------------------------------------
for f in "$samples"/0[1-6]-*.eml; do append "$f"; done
log="$tap_tmp/imapd.log"
start "$c_seen" "$log"
if wait_for '[ "$(count "via = '"'imap'"'")" -ge 6 ]' 30; then ok "the six samples are fetched"; else
	not_ok "the six samples are fetched" "$(cat "$log")"
fi
is "each became a queued delivery, via imap" \
	"$(sql "$db" "SELECT count(*) FROM mails m JOIN deliveries d ON d.id = m.delivery_id
		      WHERE m.via = 'imap' AND m.status = 'queued' AND d.status = 'queued'")" 6
uidv=$(imap "STATUS INBOX (UIDVALIDITY)" "" | tr -d '\r' | sed -n 's/.*UIDVALIDITY \([0-9]*\).*/\1/p')
is "source_ref is mailbox/UIDVALIDITY/UID" \
	"$(sql "$db" "SELECT string_agg(source_ref, ' ' ORDER BY id) FROM mails")" \
	"INBOX/$uidv/1 INBOX/$uidv/2 INBOX/$uidv/3 INBOX/$uidv/4 INBOX/$uidv/5 INBOX/$uidv/6"
is "imap_state holds the mailbox's UIDVALIDITY and the last UID" \
	"$(sql "$db" "SELECT account || ' ' || mailbox || ' ' || uidvalidity || ' ' || last_uid FROM imap_state")" \
	"alerts@127.0.0.1 INBOX $uidv 6"
wait_for '[ "$(uids SEEN)" = "1 2 3 4 5 6" ]' 10
is "every fetched mail is flagged \\Seen on the server" "$(uids SEEN)" "1 2 3 4 5 6"
like "the delivery targets the alert's region (Return-Path is the envelope sender)" \
	"$(sql "$db" "SELECT d.target::text FROM deliveries d JOIN mails m ON m.delivery_id = d.id WHERE m.message_id = '20251120.1540.anshin@city.takasaki.example.jp'")" \
	'"kurabuchi"'

# --- IDLE: a mail appended while the daemon waits --------------------------------------
like "the server offers IDLE and the daemon uses it" "$(cat "$log")" 'msg="mailbox open" .* idle=yes'
append "$(mail idle1)"
if wait_for '[ "$(count "message_id LIKE '"'idle1.%'"'")" = 1 ]' 20; then
	ok "a mail appended during IDLE arrives"
else
	not_ok "a mail appended during IDLE arrives" "$(tail -n 5 "$log")"
fi
is "without reconnecting" "$(grep -c 'msg="mailbox open"' "$log")" 1

# --- refused for good: recorded, marked, no loop ------------------------------------------
printf 'this is not a mail\r\n' >"$tap_tmp/junk.txt"
append "$tap_tmp/junk.txt"
sed 's/^Return-Path: <[^>]*>/Return-Path: <someone@elsewhere.example>/' "$(mail stranger)" \
	>"$tap_tmp/stranger2.eml"
append "$tap_tmp/stranger2.eml"
append "$(mail after-refused)"
wait_for '[ "$(count "message_id LIKE '"'after-refused.%'"'")" = 1 ]' 20
is "a sender the rules do not allow is kept for audit as ignored" \
	"$(sql "$db" "SELECT status FROM mails WHERE message_id LIKE 'stranger.%'")" "ignored"
is "something that is not a mail is kept for audit as failed" \
	"$(count "status = 'failed' AND via = 'imap'")" 1
is "and the mail after them is taken: no loop" "$(count "message_id LIKE 'after-refused.%'")" 1
like "a refusal is logged with its reason" "$(cat "$log")" \
	'msg="mail refused: kept for audit, not sent" uid=[0-9]+ mail_id=[0-9]+ reason="sender not allowed'
last=$(sql "$db" "SELECT last_uid FROM imap_state")
wait_for '[ -z "$(uids UNSEEN)" ]' 10
is "the refused mails are flagged \\Seen like the others" "$(uids UNSEEN)" ""

stop
is "SIGTERM during IDLE: exit 0" "$?" 0

# --- kill -9 in the middle of a batch: every mail exactly once -----------------------------
n=120
i=1
while [ $i -le $n ]; do
	append "$(mail "batch$i")"
	i=$((i + 1))
done
start "$c_seen" "$log"
wait_for '[ "$(count "message_id LIKE '"'batch%'"'")" -ge 5 ]' 30
kill -KILL "$imapd_pid"
wait "$imapd_pid" 2>/dev/null
imapd_pid=""
taken=$(count "message_id LIKE 'batch%'")
echo "# killed with $taken of $n taken"
start "$c_seen" "$log"
wait_for '[ "$(count "message_id LIKE '"'batch%'"'")" -ge '"$n"' ]' 60
is "after kill -9 and a restart every mail of the batch is stored" \
	"$(count "message_id LIKE 'batch%'")" "$n"
is "each exactly once (one row per UID, no UID twice)" \
	"$(sql "$db" "SELECT count(DISTINCT source_ref) FROM mails WHERE message_id LIKE 'batch%'")" "$n"
is "and no duplicate was even offered (the position resumed after the last commit)" \
	"$(grep -c 'duplicate=yes' "$log")" 0
is "the position is the highest UID" "$(sql "$db" "SELECT last_uid FROM imap_state")" \
	"$((last + n))"
wait_for '[ -z "$(uids UNSEEN)" ]' 10
is "and every one is flagged \\Seen" "$(uids UNSEEN)" ""
stop

# --- a crash between the commit and the mark: caught up at the next connection ------------
imap 'UID STORE 3 -FLAGS (\Seen)' >/dev/null
is "(a stored mail unseen again, as a crash before its mark leaves it)" "$(uids "UID 3 UNSEEN")" 3
klog="$tap_tmp/catchup.log"
start "$c_seen" "$klog"
wait_for '[ -z "$(uids UNSEEN)" ]' 20
is "at the next connection it is flagged \\Seen" "$(uids UNSEEN)" ""
like "the catch-up is logged" "$(cat "$klog")" \
	'msg="after-fetch step caught up for mail stored before" count=1 after_fetch=seen'
is "and the mail is not stored again" "$(count "source_ref LIKE 'INBOX/%/3'")" 1
stop

# --- polling, with IDLE off ------------------------------------------------------------
c_poll=$(imapd_conf poll "idle = no
poll_seconds = 1
[log]
level = debug")
plog="$tap_tmp/poll.log"
start "$c_poll" "$plog"
# Once it waits, the first look at the mailbox is over: what comes next
# can only be found by polling.
wait_for 'grep -q "msg=\"waiting for mail\" idle=no" "$plog"' 20
append "$(mail poll1)"
if wait_for '[ "$(count "message_id LIKE '"'poll1.%'"'")" = 1 ]' 20; then
	ok "with idle = no a new mail arrives by polling"
else
	not_ok "with idle = no a new mail arrives by polling" "$(cat "$plog")"
fi
like "and the daemon says it does not idle" "$(cat "$plog")" 'msg="mailbox open" .* idle=no'
stop

# --- after_fetch = move, then delete -------------------------------------------------------
c_move=$(imapd_conf move "after_fetch = move
move_to = Taken")
mlog="$tap_tmp/move.log"
start "$c_move" "$mlog"
append "$(mail moved1)"
wait_for '[ "$(count "message_id LIKE '"'moved1.%'"'")" = 1 ]' 20
wait_for '[ -n "$(uids "HEADER Message-ID moved1." Taken)" ]' 10
is "after_fetch = move: stored" "$(count "message_id LIKE 'moved1.%'")" 1
is "gone from INBOX" "$(uids "HEADER Message-ID moved1.")" ""
like "and in the move_to mailbox" "$(uids "HEADER Message-ID moved1." Taken)" '^[0-9]+$'
stop

c_del=$(imapd_conf del "after_fetch = delete")
start "$c_del" "$mlog"
append "$(mail deleted1)"
wait_for '[ "$(count "message_id LIKE '"'deleted1.%'"'")" = 1 ]' 20
wait_for '[ -z "$(uids "HEADER Message-ID deleted1.")" ]' 10
is "after_fetch = delete: stored" "$(count "message_id LIKE 'deleted1.%'")" 1
is "and expunged from INBOX" "$(uids "HEADER Message-ID deleted1.")" ""
is "not moved anywhere" "$(uids "HEADER Message-ID deleted1." Taken)" ""
stop

# --- too large: not fetched, flagged, left where it is; the next mail still comes --------
c_big=$(imapd_conf big "max_message_bytes = 65536")
{
	cat "$(mail big1)"
	head -c 100000 /dev/zero | tr '\0' x | fold -w 76
} >"$tap_tmp/big.eml"
blog="$tap_tmp/big.log"
start "$c_big" "$blog"
append "$tap_tmp/big.eml"
append "$(mail after-big)"
wait_for '[ "$(count "message_id LIKE '"'after-big.%'"'")" = 1 ]' 20
is "a mail after a too large one is taken" "$(count "message_id LIKE 'after-big.%'")" 1
is "the too large one is not stored" "$(count "message_id LIKE 'big1.%'")" 0
buid=$(uids "HEADER Message-ID big1.")
like "it is left in the mailbox" "$buid" '^[0-9]+$'
is "flagged \\Flagged for staff, not \\Seen" "$(uids "UID $buid FLAGGED UNSEEN")" "$buid"
like "and logged with its size" "$(cat "$blog")" \
	'msg="mail too large: left on the server, flagged" uid=[0-9]+ size=[0-9]+ max_message_bytes=65536'
stop

# --- UIDVALIDITY changes: read again from UID 1, no duplicate ---------------------------------
imap "CREATE Alerts" "" >/dev/null
c_alerts=$(imapd_conf alerts "mailbox = Alerts")
alog="$tap_tmp/alerts.log"
append "$(mail uv-a)" Alerts
append "$(mail uv-b)" Alerts
start "$c_alerts" "$alog"
wait_for '[ "$(count "message_id LIKE '"'uv-%'"'")" = 2 ]' 20
stop
old_uv=$(sql "$db" "SELECT uidvalidity FROM imap_state WHERE mailbox = 'Alerts'")
imap "DELETE Alerts" "" >/dev/null
sleep 1 # Dovecot derives UIDVALIDITY from the clock
imap "CREATE Alerts" "" >/dev/null
for t in uv-a uv-b uv-c; do append "$(mail $t)" Alerts; done
new_uv=$(imap "STATUS Alerts (UIDVALIDITY)" "" | tr -d '\r' | sed -n 's/.*UIDVALIDITY \([0-9]*\).*/\1/p')
unlike "the recreated mailbox has a new UIDVALIDITY" "$new_uv" "^$old_uv\$"
start "$c_alerts" "$alog"
wait_for '[ "$(sql "$db" "SELECT uidvalidity || '"'/'"' || last_uid FROM imap_state WHERE mailbox = '"'Alerts'"'")" = "$new_uv/3" ]' 20
is "the position follows the new UIDVALIDITY" \
	"$(sql "$db" "SELECT uidvalidity || '/' || last_uid FROM imap_state WHERE mailbox = 'Alerts'")" \
	"$new_uv/3"
is "the two mails seen before are not stored again, the new one is" \
	"$(sql "$db" "SELECT string_agg(split_part(message_id, '.', 1) || '=' || n, ' ' ORDER BY message_id) FROM (SELECT message_id, count(*) n FROM mails WHERE message_id LIKE 'uv-%' GROUP BY 1) s")" \
	"uv-a=1 uv-b=1 uv-c=1"
like "the change is logged" "$(cat "$alog")" 'msg="UIDVALIDITY changed: reading the mailbox again from UID 1'
like "the old mails were recognised as duplicates" "$(cat "$alog")" 'uid=2 mail_id=[0-9]+ delivery_id=0 duplicate=yes'
stop

# --- STARTTLS on the plain port ------------------------------------------------------------
c_st="$tap_tmp/starttls.conf"
sed "s/^port = .*/port = $plain_port\ntls = starttls/" "$c_seen" >"$c_st"
slog="$tap_tmp/starttls.log"
start "$c_st" "$slog"
append "$(mail starttls1)"
if wait_for '[ "$(count "message_id LIKE '"'starttls1.%'"'")" = 1 ]' 20; then
	ok "tls = starttls on the plain port works"
else
	not_ok "tls = starttls on the plain port works" "$(cat "$slog")"
fi
stop

# --- the wrong CA: refused, said clearly, retried, nothing fetched ------------------------------
before=$(count "true")
append "$(mail wrongca1)"
c_ca=$(sed "s#^ca_file = .*#ca_file = $dv/other-ca.crt#" "$c_seen")
printf '%s' "$c_ca" >"$tap_tmp/wrongca.conf"
clog="$tap_tmp/wrongca.log"
logins=$(grep -c 'Login: user=<alerts>' "$dv/dovecot.log")
start "$tap_tmp/wrongca.conf" "$clog"
wait_for '[ "$(grep -c "not trusted" "$clog")" -ge 2 ]' 20
like "a certificate from an unknown CA is refused, saying what to configure" "$(cat "$clog")" \
	'msg="cannot open the IMAP mailbox" host=127.0.0.1 port=[0-9]+ phase=tls error="the certificate of 127.0.0.1 is not trusted \(unable to get local issuer certificate\): set \[imap\] ca_file to the PEM file of the CA that signed it'
check "and retried (still running, tried again)" sh -c "kill -0 $imapd_pid && [ \$(grep -c 'not trusted' '$clog') -ge 2 ]"
is "nothing was fetched" "$(count "true")" "$before"
stop
is "SIGTERM while backing off: exit 0" "$?" 0
is "the password was never sent: no login" "$(grep -c 'Login: user=<alerts>' "$dv/dovecot.log")" \
	"$logins"

# --- the wrong password: refused, said, retried, no crash ---------------------------------------
wlog="$tap_tmp/wrongpw.log"
HOTLINE_IMAP_PASSWORD=not-the-password "$HL_BIN/hotline-imapd" -c "$c_seen" 2>>"$wlog" &
imapd_pid=$!
wait_for '[ "$(grep -c "refused the login" "$wlog")" -ge 2 ]' 30
like "a wrong password is refused with a clear line" "$(cat "$wlog")" \
	'phase=login error="the server refused the login of user alerts \(check \[imap\] user and the password\): .*Authentication failed'
check "and retried without crashing" sh -c "kill -0 $imapd_pid && [ \$(grep -c 'refused the login' '$wlog') -ge 2 ]"
stop
is "then stops with exit 0" "$?" 0

# --- the database goes away: the mail stays on the server, taken once it is back ---------------
start "$c_seen" "$log"
wait_for '[ "$(count "message_id LIKE '"'wrongca1.%'"'")" = 1 ]' 20
is "the mail the wrong CA kept out is taken once the CA is right" "$(count "message_id LIKE 'wrongca1.%'")" 1
check "hotline's role is locked out of its database" sql "$db" \
	"ALTER DATABASE \"$db\" CONNECTION LIMIT 0;
	 SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
	 WHERE datname = current_database() AND pid <> pg_backend_pid()"
append "$(mail outage1)"
wait_for 'grep -Eq "cannot read the IMAP position|mail deferred: left on the server" "$log"' 20
like "the daemon notices the database is down" "$(cat "$log")" \
	'msg="(cannot read the IMAP position|mail deferred: left on the server, retried later)"'
ouid=$(uids "HEADER Message-ID outage1.")
like "it is still on the server" "$ouid" '^[0-9]+$'
is "not flagged \\Seen" "$(uids "UID $ouid UNSEEN")" "$ouid"
check "the database comes back" sql "$db" "ALTER DATABASE \"$db\" CONNECTION LIMIT -1"
wait_for '[ "$(count "message_id LIKE '"'outage1.%'"'")" = 1 ]' 60
is "then the mail is stored, once" "$(count "message_id LIKE 'outage1.%'")" 1
wait_for '[ -n "$(uids "UID $ouid SEEN")" ]' 10
is "and flagged \\Seen" "$(uids "UID $ouid SEEN")" "$ouid"
stop
is "SIGTERM: exit 0" "$?" 0

# --- what the logs never hold -------------------------------------------------------------------
all=$(cat "$tap_tmp"/*.log)
unlike "the password is in no log" "$all" "$password|not-the-password"
unlike "no Japanese text of the alerts in the log" "$all" "倉渕|不審"
tap_done
