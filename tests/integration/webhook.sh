#!/bin/sh
# hotline-webhook against linesim: follow / unfollow / follow again (the
# resident's settings survive), the greeting and keyword replies queued for
# the pusher with the event's reply token, signatures (valid, invalid,
# missing, tampered body, wrong secret, not base64), redelivery
# de-duplication, the body limit, malformed JSON, a failing handler that is
# retried without delaying the acknowledgement or other residents and holds
# back that resident's later events, the database going away (503, then
# linesim's redelivery stored once), no raw user id in the logs, SIGTERM.
. "$HL_TOP/tests/lib.sh"

port=$(free_port 1)
wport=$(free_port 2)
U="http://127.0.0.1:$port"
W="http://127.0.0.1:$wport"
SETTINGS_URL="https://liff.line.me/1657000000-AbCdEfGh"
"$HL_BIN/linesim" -l "127.0.0.1:$port" --seed 21 --webhook-url "$W/webhook" \
	--webhook-retries 3 --webhook-backoff-ms 1000 >"$tap_tmp/linesim.out" 2>"$tap_tmp/linesim.log" &
simpid=$!
if wait_http "$U/healthz"; then ok "linesim listens"; else not_ok "linesim listens" "$(cat "$tap_tmp/linesim.log")"; fi
secret=$(sed -n 's/.*"channelSecret":"\([^"]*\)".*/\1/p' "$tap_tmp/linesim.out")
bot=$(sed -n 's/.*"botUserId":"\([^"]*\)".*/\1/p' "$tap_tmp/linesim.out")

db=$(db_new)
conf=$(conf_for "$db" "[log]
level = debug
[webhook]
listen = 127.0.0.1:$wport
max_body_bytes = 4096
settings_url = $SETTINGS_URL
threads = 2
retry_base_ms = 100
retry_max_ms = 400
max_attempts = 100")
check "migrate" ctl "$conf" migrate
log="$tap_tmp/webhook.log"
HOTLINE_LINE_CHANNEL_SECRET=$secret "$HL_BIN/hotline-webhook" -c "$conf" 2>>"$log" &
wpid=$!
if wait_http "$W/healthz"; then ok "hotline-webhook listens"; else not_ok "hotline-webhook listens" "$(cat "$log")"; fi

# until SQL — poll until the query prints "t" (10 s at most).
until_sql() {
	i=0
	while [ $i -lt 100 ]; do
		[ "$(sql "$db" "$1")" = t ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
# event USER JSON — a resident's action through linesim; prints its answer.
event() {
	curl -s -X POST "$U/sim/users/$1/events" -d "$2"
}
# sign BODY-FILE [SECRET] — the X-Line-Signature of a file.
sign() {
	openssl dgst -sha256 -hmac "${2:-$secret}" -binary <"$1" | base64
}
# post BODY-FILE SIGNATURE — POST to the webhook; prints "STATUS BODY".
post() {
	http POST "$W/webhook" -H 'Content-Type: application/json' -H "X-Line-Signature: $2" \
		--data-binary "@$1"
}
post_nosig() {
	http POST "$W/webhook" -H 'Content-Type: application/json' --data-binary "@$1"
}
nevents() {
	sql "$db" "SELECT count(*) FROM webhook_events"
}

# --- follow, unfollow, follow again ----------------------------------------------
out=$(curl -s -X POST "$U/sim/users" -d '{"count":1}')
uid=$(echo "$out" | grep -oE 'U[0-9a-f]{32}' | head -n 1)
like "follow webhook answered 200" "$out" '"lastStatus":200'
check "follow: the resident is stored, active" \
	until_sql "SELECT status = 'active' FROM residents WHERE line_user_id = '$uid'"
check "follow event done" until_sql "SELECT bool_and(status = 'done') FROM webhook_events WHERE type = 'follow'"
is "greeting queued once, with the follow's reply token and the settings link" \
	"$(sql "$db" "SELECT count(*) FROM line_replies r JOIN residents s ON s.id = r.resident_id
		JOIN webhook_events e ON e.body->>'replyToken' = r.reply_token AND e.type = 'follow'
		WHERE s.line_user_id = '$uid' AND r.source = 'webhook' AND r.status = 'pending'
		AND r.messages->0->>'type' = 'text'
		AND r.messages->0->>'text' LIKE '%受信設定%' || '$SETTINGS_URL' || '%'")" 1
check "the resident chooses a region" sql "$db" "INSERT INTO resident_choices (resident_id, value_id)
	SELECT r.id, v.id FROM residents r, segment_values v JOIN segment_items i ON i.id = v.item_id
	 WHERE r.line_user_id = '$uid' AND i.key = 'region' AND v.key = 'kurabuchi'"
out=$(event "$uid" '{"type":"unfollow"}')
like "unfollow webhook answered 200" "$out" '"webhookStatus":200'
check "unfollow: blocked, with blocked_at" \
	until_sql "SELECT status = 'blocked' AND blocked_at IS NOT NULL FROM residents WHERE line_user_id = '$uid'"
out=$(event "$uid" '{"type":"follow"}')
like "follow again: linesim says isUnblocked" "$out" '"isUnblocked":true'
check "follow again: active, blocked_at kept" \
	until_sql "SELECT status = 'active' AND blocked_at IS NOT NULL FROM residents WHERE line_user_id = '$uid'"
is "follow again: the earlier choice is kept" \
	"$(sql "$db" "SELECT string_agg(v.key, ',') FROM resident_choices c JOIN residents r ON r.id = c.resident_id
		JOIN segment_values v ON v.id = c.value_id WHERE r.line_user_id = '$uid'")" kurabuchi
check "follow again: a second greeting" \
	until_sql "SELECT count(*) = 2 FROM line_replies r JOIN residents s ON s.id = r.resident_id WHERE s.line_user_id = '$uid'"
is "one resident row" "$(sql "$db" "SELECT count(*) FROM residents")" 1

# --- messages: keywords, no keyword, the stubs ---------------------------------------
event "$uid" '{"type":"message","text":"　受信設定 "}' >/dev/null
event "$uid" '{"type":"message","text":"ヘルプ"}' >/dev/null
event "$uid" '{"type":"message","text":"こんにちは"}' >/dev/null
event "$uid" '{"type":"postback","data":"action=menu"}' >/dev/null
event "$uid" '{"type":"location","latitude":36.32,"longitude":139.0}' >/dev/null
event "$uid" '{"type":"image"}' >/dev/null
event "$uid" '{"type":"sticker"}' >/dev/null
check "every event handled (done)" \
	until_sql "SELECT count(*) = 10 AND bool_and(status = 'done') FROM webhook_events"
is "keyword replies: the settings link and the help text, nothing for other text" \
	"$(sql "$db" "SELECT string_agg(CASE WHEN r.messages->0->>'text' LIKE '%$SETTINGS_URL%' THEN 'link'
		WHEN r.messages->0->>'text' LIKE '%安心ほっとメール%' THEN 'help' ELSE 'other' END, ',' ORDER BY r.id)
		FROM line_replies r JOIN webhook_events e ON e.body->>'replyToken' = r.reply_token
		WHERE e.type = 'message'")" "link,help"
is "events stored with their type, user and time, in order" \
	"$(sql "$db" "SELECT string_agg(type, ',' ORDER BY id) FROM webhook_events
		WHERE line_user_id = '$uid' AND event_time > now() - interval '1 hour'")" \
	"follow,unfollow,follow,message,message,message,postback,message,message,message"

# --- signatures ----------------------------------------------------------------------
n0=$(nevents)
ts=$(date +%s)000
mkbody() {	# mkbody EVENT-ID TEXT > file
	printf '{"destination":"%s","events":[{"type":"message","message":{"type":"text","id":"1","text":"%s"},"webhookEventId":"%s","deliveryContext":{"isRedelivery":false},"timestamp":%s,"source":{"type":"user","userId":"%s"},"replyToken":"rt%s","mode":"active"}]}' \
		"$bot" "$2" "$1" "$ts" "$uid" "$1"
}
mkbody 01JDSIGNED000000000000000A "hello" >"$tap_tmp/b1"
sig=$(sign "$tap_tmp/b1")
is "valid signature: 200" "$(post "$tap_tmp/b1" "$sig")" "200 {}"
mkbody 01JDSIGNED000000000000000B "hello" >"$tap_tmp/b2"
is "missing signature: 400" "$(post_nosig "$tap_tmp/b2")" "400 missing X-Line-Signature"
is "empty signature: 400" "$(post "$tap_tmp/b2" "")" "400 missing X-Line-Signature"
is "another body's signature: 401" "$(post "$tap_tmp/b2" "$sig")" "401 signature mismatch"
sed 's/hello/hellp/' "$tap_tmp/b1" >"$tap_tmp/b1t"
is "tampered body: 401" "$(post "$tap_tmp/b1t" "$sig")" "401 signature mismatch"
is "wrong secret: 401" "$(post "$tap_tmp/b2" "$(sign "$tap_tmp/b2" 0123456789abcdef0123456789abcdef)")" \
	"401 signature mismatch"
is "not base64: 401" "$(post "$tap_tmp/b2" 'not-a-signature')" \
	"401 X-Line-Signature is not base64 of 32 bytes"
is "hex HMAC instead of base64: 401" \
	"$(post "$tap_tmp/b2" "$(openssl dgst -sha256 -hmac "$secret" -r <"$tap_tmp/b2" | cut -c1-64)")" \
	"401 X-Line-Signature is not base64 of 32 bytes"
is "only the validly signed event was stored" "$(nevents)" $((n0 + 1))
like "refusals are logged with their reason" "$(cat "$log")" 'msg="webhook refused".*reason="signature mismatch"'

# --- redelivery de-duplication, limits, malformed bodies ---------------------------------
is "the same webhookEventId again: 200" "$(post "$tap_tmp/b1" "$sig")" "200 {}"
is "... stored once" "$(sql "$db" "SELECT count(*) FROM webhook_events WHERE webhook_event_id = '01JDSIGNED000000000000000A'")" 1
head -c 5000 /dev/zero | tr '\0' ' ' >"$tap_tmp/big"
is "a body over max_body_bytes: 413" "$(post "$tap_tmp/big" "$(sign "$tap_tmp/big")" | cut -c1-3)" 413
printf '{"destination":"%s","events":[{"type":"follow",' "$bot" >"$tap_tmp/bad"
like "malformed JSON with a good signature: 400 with the reason" \
	"$(post "$tap_tmp/bad" "$(sign "$tap_tmp/bad")")" '^400 not JSON: .*line 1'
printf '{"events":[{"type":"follow","webhookEventId":"X","timestamp":1,"source":{"type":"user","userId":"nobody"}}]}' >"$tap_tmp/bad2"
is "a bad user id with a good signature: 400 naming the field" \
	"$(post "$tap_tmp/bad2" "$(sign "$tap_tmp/bad2")")" \
	"400 events[0] source.userId: missing or not U + 32 hex digits"
printf '{"destination":"%s","events":[]}' "$bot" >"$tap_tmp/empty"
is "an empty events array (LINE's URL check): 200" "$(post "$tap_tmp/empty" "$(sign "$tap_tmp/empty")")" "200 {}"
is "nothing stored from the refused bodies" "$(nevents)" $((n0 + 1))

# --- a failing handler: retried, acknowledgement not delayed, order kept ------------------
check "inject a failure into reply queueing" sql "$db" "
	CREATE FUNCTION pg_temp_fail() RETURNS trigger LANGUAGE plpgsql AS
	\$\$ BEGIN RAISE EXCEPTION 'injected failure' USING ERRCODE = '40001'; END \$\$;
	CREATE TRIGGER inject_fail BEFORE INSERT ON line_replies FOR EACH ROW EXECUTE FUNCTION pg_temp_fail()"
uid2=$(curl -s -X POST "$U/sim/users" -d '{"count":1}' | grep -oE 'U[0-9a-f]{32}' | head -n 1)
out=$(event "$uid2" '{"type":"message","text":"受信設定"}')
like "a later event of that resident is acknowledged with 200" "$out" '"webhookStatus":200'
check "the failing follow is retried with back-off" \
	until_sql "SELECT attempts >= 3 AND status = 'pending' AND error LIKE '%injected failure%'
		AND next_attempt_at > received_at FROM webhook_events WHERE line_user_id = '$uid2' AND type = 'follow'"
is "the resident's later message waits (per-resident order)" \
	"$(sql "$db" "SELECT status || ':' || attempts FROM webhook_events WHERE line_user_id = '$uid2' AND type = 'message'")" \
	"pending:0"
event "$uid" '{"type":"message","text":"こんばんは"}' >/dev/null
check "another resident's event is handled meanwhile" \
	until_sql "SELECT status = 'done' FROM webhook_events WHERE line_user_id = '$uid' AND body->'message'->>'text' = 'こんばんは'"
check "the failure goes away" sql "$db" "DROP TRIGGER inject_fail ON line_replies"
check "both events of the resident are done, follow first" \
	until_sql "SELECT bool_and(status = 'done') AND min(processed_at) FILTER (WHERE type = 'follow')
		<= min(processed_at) FILTER (WHERE type = 'message') FROM webhook_events WHERE line_user_id = '$uid2'"
is "... with the greeting, then the keyword reply" \
	"$(sql "$db" "SELECT string_agg(CASE WHEN messages->0->>'text' LIKE '友だち追加%' THEN 'greeting' ELSE 'keyword' END, ',' ORDER BY r.id)
		FROM line_replies r JOIN residents s ON s.id = r.resident_id WHERE s.line_user_id = '$uid2'")" "greeting,keyword"

# --- the database goes away: 503, then linesim's redelivery is stored once ---------------
check "cut hotline_webhook off this database" sql "$db" "
	REVOKE CONNECT ON DATABASE $db FROM hotline_webhook;
	SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '$db' AND usename = 'hotline_webhook'"
since=$(curl -s "$U/sim/webhooks?since=0" | grep -oE '"seq":[0-9]+' | tail -n 1 | tr -dc 0-9)
event "$uid" '{"type":"message","text":"ヘルプ"}' >"$tap_tmp/down.out" &
evpid=$!
i=0
# Our own log says when the first attempt was refused (linesim's log may
# only show the attempts once the redeliveries are over).
while [ $i -lt 100 ] && ! grep -q 'msg="cannot store webhook events"' "$log"; do
	sleep 0.1
	i=$((i + 1))
done
is "... and /healthz says 503" "$(http GET "$W/healthz" | cut -c1-3)" 503
check "the database comes back" sql "$db" "GRANT CONNECT ON DATABASE $db TO hotline_webhook"
wait "$evpid"
like "while the database was down the webhook answered 503" "$(curl -s "$U/sim/webhooks?since=$since")" '"status":503'
if grep -q '"webhookStatus":200' "$tap_tmp/down.out"; then
	ok "linesim's redelivery is answered 200"
else
	not_ok "linesim's redelivery is answered 200" "$(cat "$tap_tmp/down.out")
$(grep -v 'level=debug' "$log" | tail -n 6)"
fi
like "... it was a redelivery" "$(curl -s "$U/sim/webhooks?since=$since")" '"isRedelivery":true,"signature"[^}]*"status":200|"status":200[^}]*"isRedelivery":true'
check "the redelivered event is stored once and handled" \
	until_sql "SELECT count(*) = 1 AND bool_and(is_redelivery AND status = 'done') FROM webhook_events
		WHERE line_user_id = '$uid' AND body->'message'->>'text' = 'ヘルプ' AND is_redelivery"

# --- logs, stop ------------------------------------------------------------------------
kill -TERM "$wpid"
wait "$wpid"
is "SIGTERM: exit status 0" "$?" 0
is "no raw LINE user id in the webhook's logs" "$(grep -cE 'U[0-9a-f]{32}' "$log")" 0
like "logs name residents by pseudonym" "$(cat "$log")" 'msg="resident follows" uid=u:[0-9a-f]{12}'
unlike "no message text in the logs" "$(cat "$log")" 'こんにちは|受信設定 |hellp'

# --- end to end through hotline-pusher ------------------------------------------------------
# TODO(issue 6): hotline-pusher does not send line_replies yet (the lead is
# writing it).  Once pusher/ handles them, this checks that the greeting
# reaches the resident's linesim inbox; until then it is skipped.
if grep -q line_replies "$HL_TOP"/pusher/*.c 2>/dev/null; then
	token=$(sed -n 's/.*"channelAccessToken":"\([^"]*\)".*/\1/p' "$tap_tmp/linesim.out")
	mport=$(free_port 3)
	# Every daemon reads the same file: add the pusher's sections to it.
	printf '[line]\napi_base_url = %s\n[pusher]\nmetrics_listen = 127.0.0.1:%s\n' "$U" "$mport" >>"$conf"
	uid3=$(curl -s -X POST "$U/sim/users" -d '{"count":1,"silent":true}' | grep -oE 'U[0-9a-f]{32}' | head -n 1)
	HOTLINE_LINE_CHANNEL_SECRET=$secret "$HL_BIN/hotline-webhook" -c "$conf" 2>>"$log" &
	wpid=$!
	HOTLINE_LINE_CHANNEL_TOKEN=$token "$HL_BIN/hotline-pusher" -c "$conf" 2>"$tap_tmp/pusher.log" &
	ppid=$!
	wait_http "$W/healthz"
	event "$uid3" '{"type":"follow"}' >/dev/null
	i=0
	while [ $i -lt 100 ] && ! curl -s "$U/sim/users/$uid3/inbox" | grep -q "$SETTINGS_URL"; do
		sleep 0.1
		i=$((i + 1))
	done
	out=$(curl -s "$U/sim/users/$uid3/inbox")
	if printf '%s' "$out" | grep -q "$SETTINGS_URL"; then
		ok "end to end: the greeting reaches the resident's inbox"
	else
		not_ok "end to end: the greeting reaches the resident's inbox" "$out
$(sql "$db" "SELECT status, method, attempts, error FROM line_replies ORDER BY id DESC LIMIT 1")
$(tail -n 5 "$tap_tmp/pusher.log")
$(tail -n 3 "$log")"
	fi
	kill -TERM "$ppid" "$wpid"
	wait "$ppid" "$wpid"
else
	echo "ok $((tap_n + 1)) - end to end through hotline-pusher # SKIP pusher does not send line_replies yet"
	tap_n=$((tap_n + 1))
fi

kill -TERM "$simpid"
wait "$simpid"
tap_done
