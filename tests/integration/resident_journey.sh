#!/bin/sh
# A resident's whole journey through the real daemons and linesim, as
# issue 6 asks: they add the account as a friend (linesim sends the signed
# follow webhook to hotline-webhook, which registers them and queues the
# greeting; hotline-pusher sends it), open 受信設定 with their LIFF ID
# token and choose a region, and a segment delivery for that region then
# reaches exactly the residents it should: the one who chose it, the one
# who chose nothing (who receives everything), not the one who chose
# another region, and not the one who blocked the account.
. "$HL_TOP/tests/lib.sh"

lport=$(free_port 1)
L="http://127.0.0.1:$lport"
wport=$(free_port 2)
W="http://127.0.0.1:$wport"
mport=$(free_port 3)
"$HL_BIN/linesim" -l "127.0.0.1:$lport" --seed 31 --login-channel-id 1650000031 \
	--webhook-url "$W/webhook" --webhook-backoff-ms 100 >"$tap_tmp/linesim.out" 2>"$tap_tmp/linesim.log" &
simpid=$!
if wait_http "$L/healthz"; then ok "linesim listens"; else not_ok "linesim listens" "$(cat "$tap_tmp/linesim.log")"; fi
secret=$(sed -n 's/.*"channelSecret":"\([^"]*\)".*/\1/p' "$tap_tmp/linesim.out")
token=$(sed -n 's/.*"channelAccessToken":"\([^"]*\)".*/\1/p' "$tap_tmp/linesim.out")

db=$(db_new)
conf=$(conf_for "$db" "[line]
api_base_url = $L
login_channel_id = 1650000031
liff_id = 1650000031-Journey
[webhook]
listen = 127.0.0.1:$wport
liff_dir = $HL_BIN/../www/liff
settings_url = https://liff.line.me/1650000031-Journey
threads = 2
[pusher]
metrics_listen = 127.0.0.1:$mport")
check "migrate" ctl "$conf" migrate
HOTLINE_LINE_CHANNEL_SECRET=$secret "$HL_BIN/hotline-webhook" -c "$conf" 2>"$tap_tmp/webhook.log" &
whpid=$!
HOTLINE_LINE_CHANNEL_TOKEN=$token "$HL_BIN/hotline-pusher" -c "$conf" 2>"$tap_tmp/pusher.log" &
pupid=$!
if wait_http "$W/healthz" && wait_http "http://127.0.0.1:$mport/healthz"; then ok "webhook and pusher listen"; else
	not_ok "webhook and pusher listen" "$(cat "$tap_tmp/webhook.log" "$tap_tmp/pusher.log")"; fi

# wait_for DESCRIPTION SQL WANT — poll the database (10 s at most).
wait_for() {
	i=0
	while [ $i -lt 100 ]; do
		got=$(sql "$db" "$2")
		[ "$got" = "$3" ] && { ok "$1"; return; }
		sleep 0.1
		i=$((i + 1))
	done
	not_ok "$1" "got: $got
want: $3"
}
inbox() { curl -s "$L/sim/users/$1/inbox"; }

# --- four residents add the account as a friend ----------------------------------------
ids=$(curl -s -X POST "$L/sim/users" -d '{"count":4}' | grep -oE 'U[0-9a-f]{32}')
a=$(echo "$ids" | sed -n 1p)	# will choose 倉渕
b=$(echo "$ids" | sed -n 2p)	# will choose 榛名
c=$(echo "$ids" | sed -n 3p)	# chooses nothing
d=$(echo "$ids" | sed -n 4p)	# chooses 倉渕, then blocks the account
wait_for "the four follows register four active residents" \
	"SELECT count(*) FROM residents WHERE status = 'active'" 4
wait_for "each gets a greeting, sent by the pusher" \
	"SELECT count(*) FROM line_replies WHERE status = 'sent'" 4
like "the greeting in the resident's LINE links to 受信設定" "$(inbox "$a")" \
	'"text":"[^"]*https://liff.line.me/1650000031-Journey'

# --- 受信設定 with the LIFF ID token -------------------------------------------------------
save() {	# save USER JSON — PUT the settings with the user's LIFF token; prints the status
	t=$(curl -s -X POST "$L/sim/users/$1/liff-token" | sed -n 's/.*"idToken":"\([^"]*\)".*/\1/p')
	curl -s -o /dev/null -w '%{http_code}' -X PUT "$W/liff/api/settings" \
		-H "Authorization: Bearer $t" -H 'Content-Type: application/json' --data-binary "$2"
}
is "A saves 倉渕" "$(save "$a" '{"settings":{"region":["kurabuchi"]}}')" 200
is "B saves 榛名" "$(save "$b" '{"settings":{"region":["haruna"]}}')" 200
is "D saves 倉渕" "$(save "$d" '{"settings":{"region":["kurabuchi"]}}')" 200
is "the choices are in the database" \
	"$(sql "$db" "SELECT string_agg(v.key, ',' ORDER BY r.id) FROM residents r
		JOIN resident_choices ch ON ch.resident_id = r.id JOIN segment_values v ON v.id = ch.value_id")" \
	"kurabuchi,haruna,kurabuchi"
curl -s -o /dev/null -X POST "$L/sim/users/$d/events" -d '{"type":"unfollow"}'
wait_for "D blocks the account" "SELECT status FROM residents WHERE line_user_id = '$d'" blocked

# --- a delivery for 倉渕 -------------------------------------------------------------------
did=$(sql "$db" "INSERT INTO deliveries (source, title, messages, target, status)
	VALUES ('system', 'journey', '[{\"type\":\"text\",\"text\":\"倉渕地区のお知らせ JOURNEY\"}]',
		'{\"all\":[{\"item\":\"region\",\"any\":[\"kurabuchi\"]}]}', 'queued') RETURNING id")
wait_for "the delivery is done, to two residents" \
	"SELECT status || ' ' || targeted || ' ' || accepted FROM deliveries WHERE id = $did" "done 2 2"
like "A, who chose 倉渕, has it" "$(inbox "$a")" 'JOURNEY'
like "C, who chose nothing, has it" "$(inbox "$c")" 'JOURNEY'
unlike "B, who chose 榛名, does not" "$(inbox "$b")" 'JOURNEY'
unlike "D, who blocked the account, does not" "$(inbox "$d")" 'JOURNEY'

kill -TERM "$whpid" "$pupid" "$simpid" 2>/dev/null
wait "$whpid" "$pupid" "$simpid" 2>/dev/null
unlike "no LINE user id in the daemons' logs" "$(cat "$tap_tmp/webhook.log" "$tap_tmp/pusher.log")" 'U[0-9a-f]{32}'
tap_done
