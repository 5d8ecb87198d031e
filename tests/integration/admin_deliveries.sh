#!/bin/sh
# hotline-admin's delivery API (issue 7) against a throwaway database, with
# staff signed in with TOTP: the preview (text and card built by the
# server), the live count over seeded residents (everyone, a segment, AND,
# OR), test-send, send now, schedule and their rows and audit rows, cancel
# (200 before it starts, 409 once sending or done), approval by a second
# member of staff, every permission boundary of a 一般職員 (everyone,
# particular residents, values outside the scope, mixed, someone else's
# delivery, approving their own), the scope rule holding in the database
# itself, each invalid field (400 naming it, in Japanese), the history
# (mail and staff deliveries, figures, Japanese target summary, paging,
# filters), XSS-looking text returned verbatim as JSON strings, the
# database going away (503, then back), and finally the real pusher
# delivering a test-send to the test receivers only and a real send to
# exactly the right simulated residents in linesim.
. "$HL_TOP/tests/lib.sh"
. "$HL_TOP/tests/lib_admin.sh"

lport=$(free_port 1)
L="http://127.0.0.1:$lport"
aport=$(free_port 2)
mport=$(free_port 3)
ADMIN_BASE="http://127.0.0.1:$aport"
"$HL_BIN/linesim" -l "127.0.0.1:$lport" --seed 71 >"$tap_tmp/linesim.out" 2>"$tap_tmp/linesim.log" &
simpid=$!
if wait_http "$L/healthz"; then ok "linesim listens"; else not_ok "linesim listens" "$(cat "$tap_tmp/linesim.log")"; fi
token=$(sed -n 's/.*"channelAccessToken":"\([^"]*\)".*/\1/p' "$tap_tmp/linesim.out")

ADMIN_DB=$(db_new)
ADMIN_CONF=$(conf_for "$ADMIN_DB" "[line]
api_base_url = $L
request_timeout_ms = 2000
[admin]
listen = 127.0.0.1:$aport
ip_lockout_threshold = 1000
[pusher]
metrics_listen = 127.0.0.1:$mport
retry_base_ms = 50
retry_max_ms = 400")
db=$ADMIN_DB
check "migrate" ctl "$ADMIN_CONF" migrate
alog="$tap_tmp/admin.log"
if admin_start "$ADMIN_CONF" "$alog"; then ok "hotline-admin listens"; else not_ok "hotline-admin listens" "$(cat "$alog")"; fi

# --- staff: two 管理者, two 一般職員 with scopes, one without ---------------------------
admin_make tamura 'tamura-kouhou-2026' admin 広報課 || not_ok "make tamura"
admin_make sato 'sato-soumu-2026!!' admin 総務課 || not_ok "make sato"
admin_make suzuki 'suzuki-kurabuchi-2026' staff 倉渕支所 || not_ok "make suzuki"
admin_make yamada 'yamada-kurabuchi-2026' staff 倉渕支所 || not_ok "make yamada"
admin_make kimura 'kimura-noscope-2026' staff || not_ok "make kimura"
sql "$db" "INSERT INTO staff_segment_scope (staff_id, value_id)
	SELECT s.id, v.id FROM staff s JOIN segment_values v ON true JOIN segment_items i ON i.id = v.item_id
	 WHERE i.key = 'region' AND ((s.login = 'suzuki' AND v.key IN ('kurabuchi', 'haruna'))
				  OR (s.login = 'yamada' AND v.key = 'kurabuchi'))" >/dev/null
uid() { sql "$db" "SELECT id FROM staff WHERE login = '$1'"; }
tamura_id=$(uid tamura) sato_id=$(uid sato) suzuki_id=$(uid suzuki)

# as LOGIN — switch to LOGIN's session (signing in the first time).
as() {
	eval "s_c=\${ck_$1:-} s_t=\${cs_$1:-}"
	if [ -z "$s_c" ]; then
		case $1 in
		tamura) p='tamura-kouhou-2026' ;; sato) p='sato-soumu-2026!!' ;;
		suzuki) p='suzuki-kurabuchi-2026' ;; yamada) p='yamada-kurabuchi-2026' ;;
		kimura) p='kimura-noscope-2026' ;;
		esac
		admin_signin "$1" "$p" || { not_ok "$1 signs in" "$status $body"; return 1; }
		eval "ck_$1=\$admin_cookie cs_$1=\$admin_csrf"
	else
		admin_cookie=$s_c admin_csrf=$s_t
	fi
}
for who in tamura sato suzuki yamada kimura; do
	if as "$who"; then ok "$who signs in with TOTP"; fi
done

# --- residents (linesim users) with choices ----------------------------------------------
# r1 倉渕+防災 tester, r2 榛名, r3 nothing chosen, r4 新町+防災, r5 倉渕 blocked,
# r6 倉渕+イベント tester.
ids=$(curl -s -X POST "$L/sim/users" -d '{"count":6,"silent":true}' | grep -oE 'U[0-9a-f]{32}')
is "linesim has six residents" "$(echo "$ids" | wc -l | tr -d ' ')" 6
echo "$ids" | sql "$db" "COPY residents (line_user_id) FROM STDIN"
u() { echo "$ids" | sed -n "$1p"; }
check "residents choose" sql "$db" "
	CREATE TEMP TABLE n AS SELECT id, row_number() OVER (ORDER BY id) AS n FROM residents;
	UPDATE residents r SET is_tester = true FROM n WHERE n.id = r.id AND n.n IN (1, 6);
	UPDATE residents r SET status = 'blocked', blocked_at = now() FROM n WHERE n.id = r.id AND n.n = 5;
	INSERT INTO resident_choices (resident_id, value_id)
	SELECT n.id, v.id FROM n JOIN (VALUES (1, 'kurabuchi'), (1, 'disaster'), (2, 'haruna'),
		(4, 'shinmachi'), (4, 'disaster'), (5, 'kurabuchi'), (6, 'kurabuchi'), (6, 'event'))
		AS c(n, key) ON c.n = n.n
	  JOIN segment_values v ON v.key = c.key
	  JOIN segment_items i ON i.id = v.item_id AND i.key IN ('region', 'category')"

# --- live count ---------------------------------------------------------------------------
as tamura
cnt() { admin_api POST /api/deliveries/count "$1"; [ "$status" = 200 ] && jget "$body" '["count"]' || echo "$status $body"; }
is "count: everyone is the five active residents" "$(cnt '{"everyone":true}')" 5
is "count: 倉渕 (with the one who chose nothing)" \
	"$(cnt '{"target":{"all":[{"item":"region","any":["kurabuchi"]}]}}')" 3
is "count: 倉渕 AND 防災" \
	"$(cnt '{"target":{"all":[{"item":"region","any":["kurabuchi"]},{"item":"category","any":["disaster"]}]}}')" 2
is "count: 榛名 OR イベント" \
	"$(cnt '{"target":{"any":[{"item":"region","any":["haruna"]},{"item":"category","any":["event"]}]}}')" 3
is "count: 20代 (nobody chose an age band, and unset does not match)" \
	"$(cnt '{"target":{"all":[{"item":"age_band","any":["twenties"]}]}}')" 0
is "count: no audience is 0" "$(cnt '{}')" 0
admin_api POST /api/deliveries/count '{"target":{"all":[{"item":"region","any":["atlantis"]}]}}'
is "count: an unknown value is 400" "$status" 400
like "naming the item and value in Japanese" "$body" \
	'"message":"セグメント項目「住んでいる地域」に値「atlantis」はありません。","field":"target"'

# --- preview ------------------------------------------------------------------------------
admin_api POST /api/deliveries/preview '{"title":"断水のお知らせ","style":"text","body":"倉渕地区で断水しています。","link_url":"https://www.city.takasaki.gunma.jp/","target":{"all":[{"item":"region","any":["kurabuchi"]}]}}'
is "preview (text) is 200" "$status" 200
is "one text message" "$(jget "$body" '["messages"][0]["type"]') $(jget "$body" '["messages"].__len__()')" "text 1"
like "title, body and link in it" "$(jget "$body" '["messages"][0]["text"]' | tr '\n' ' ')" '断水のお知らせ.*倉渕地区で断水しています。.*https://www\.city\.takasaki\.gunma\.jp/'
is "not truncated, count 3" "$(jget "$body" '["truncated"]') $(jget "$body" '["count"]')" "false 3"
admin_api POST /api/deliveries/preview '{"title":"大雨警報","style":"card","category":"disaster","body":"避難の準備をしてください。","link_url":"https://example.jp/a","link_label":"避難所","everyone":true}'
is "preview (card) is 200" "$status" 200
is "a flex bubble" "$(jget "$body" '["messages"][0]["type"]') $(jget "$body" '["messages"][0]["contents"]["type"]')" "flex bubble"
like "with the category label and the link button" "$body" '"text":"防災".*"uri":"https://example.jp/a"'
is "count for everyone" "$(jget "$body" '["count"]')" 5
is "no delivery was made by previews or counts" "$(sql "$db" "SELECT count(*) FROM deliveries")" 0
long=$(python3 -c 'print("😀" * 20000)')
admin_api POST /api/deliveries/preview "{\"title\":\"長文\",\"body\":\"$long\"}"
is "a body beyond five messages previews as truncated" "$status $(jget "$body" '["truncated"]')" "200 true"
admin_api POST /api/deliveries "{\"title\":\"長文\",\"body\":\"$long\",\"everyone\":true}"
is "and is refused on send" "$status $(jget "$body" '["field"]')" "400 body"

# --- bad input: each field --------------------------------------------------------------
bad() {	# bad NAME JSON FIELD
	admin_api POST /api/deliveries "$2"
	if [ "$status" = 400 ] && [ "$(jget "$body" '["error"]')" = invalid ] &&
		[ "$(jget "$body" '["field"]')" = "$3" ] &&
		printf '%s' "$(jget "$body" '["message"]')" | grep -q '。'; then
		ok "400 $3: $1"
	else
		not_ok "400 $3: $1" "$status $body"
	fi
}
T='"target":{"all":[{"item":"region","any":["kurabuchi"]}]}'
t201=$(python3 -c 'print("あ" * 201)')
b20001=$(python3 -c 'print("あ" * 20001)')
l41=$(python3 -c 'print("あ" * 41)')
bad "no title nor body" "{$T}" body
bad "empty title and body" "{\"title\":\"\",\"body\":\"\",$T}" body
bad "title over 200 characters" "{\"title\":\"$t201\",\"body\":\"x\",$T}" title
bad "title not a string" "{\"title\":5,\"body\":\"x\",$T}" title
bad "body over 20000 characters" "{\"body\":\"$b20001\",$T}" body
bad "style neither text nor card" "{\"body\":\"x\",\"style\":\"html\",$T}" style
bad "unknown category" "{\"body\":\"x\",\"category\":\"weather\",$T}" category
bad "link over plain http" "{\"body\":\"x\",\"link_url\":\"http://example.jp/\",$T}" link_url
bad "javascript: link" "{\"body\":\"x\",\"link_url\":\"javascript:alert(1)\",$T}" link_url
bad "link with a space" "{\"body\":\"x\",\"link_url\":\"https://example.jp/a b\",$T}" link_url
bad "link label over 40 characters" "{\"body\":\"x\",\"link_url\":\"https://example.jp/\",\"link_label\":\"$l41\",$T}" link_label
bad "no audience" '{"body":"x"}' target
bad "everyone not a boolean" '{"body":"x","everyone":"yes"}' everyone
bad "target not an object" '{"body":"x","target":["kurabuchi"]}' target
bad "unknown item" '{"body":"x","target":{"all":[{"item":"planet","any":["mars"]}]}}' target
bad "unknown value" '{"body":"x","target":{"all":[{"item":"region","any":["atlantis"]}]}}' target
bad "unknown filter key" '{"body":"x","target":{"near":"station"}}' target
bad "send_at in the past" "{\"body\":\"x\",$T,\"send_at\":\"2020-01-01T09:00:00+09:00\"}" send_at
bad "send_at beyond a year" "{\"body\":\"x\",$T,\"send_at\":\"2099-01-01T09:00:00+09:00\"}" send_at
bad "send_at without an offset" "{\"body\":\"x\",$T,\"send_at\":\"2030-01-01T09:00:00\"}" send_at
bad "send_at not a real day" "{\"body\":\"x\",$T,\"send_at\":\"2027-02-30T09:00:00+09:00\"}" send_at
bad "send_at not a string" "{\"body\":\"x\",$T,\"send_at\":1767225600}" send_at
admin_api POST /api/deliveries 'not json'
is "a body that is not JSON is 400 bad_request" "$status $(jget "$body" '["error"]')" "400 bad_request"
is "nothing was stored by bad requests" "$(sql "$db" "SELECT count(*) FROM deliveries")" 0

# --- send now, schedule, test-send (管理者) ---------------------------------------------
admin_api POST /api/deliveries "{\"title\":\"今すぐ\",\"body\":\"S1\",$T}"
is "send now: 201" "$status" 201
d_now=$(jget "$body" '["delivery"]["id"]')
is "queued, staff, by tamura, with its summary" \
	"$(jget "$body" '["delivery"]["status"]') $(jget "$body" '["delivery"]["source"]') $(jget "$body" '["delivery"]["created_by"]["display_name"]') $(jget "$body" '["delivery"]["target_label"]')" \
	"queued staff tamura 住んでいる地域: 倉渕"
like "with its messages" "$body" '"messages":\[\{"text":"今すぐ\\nS1","type":"text"\}\]'
soon=$(sql "$db" "SELECT to_char((now() + interval '2 days') AT TIME ZONE 'Asia/Tokyo', 'YYYY-MM-DD\"T\"HH24:MI:SS\"+09:00\"')")
admin_api POST /api/deliveries "{\"title\":\"予約\",\"body\":\"S2\",\"everyone\":true,\"send_at\":\"$soon\"}"
is "schedule: 201 scheduled at the time asked" \
	"$status $(jget "$body" '["delivery"]["status"]') $(jget "$body" '["delivery"]["send_at"]')" "201 scheduled $soon"
d_sched=$(jget "$body" '["delivery"]["id"]')
is "everyone is summarised as 全員" "$(jget "$body" '["delivery"]["target_label"]')" "全員"
admin_api POST /api/deliveries/test "{\"title\":\"試験\",\"body\":\"S3\",$T}"
is "test-send: 201" "$status" 201
d_test=$(jget "$body" '["delivery"]["id"]')
is "an is_test delivery queued at once, summarised as テスト受信者" \
	"$(sql "$db" "SELECT is_test || ' ' || status || ' ' || (send_at IS NULL) FROM deliveries WHERE id = $d_test") $(jget "$body" '["delivery"]["target_label"]')" \
	"true queued true テスト受信者"
is "the rows in the database" \
	"$(sql "$db" "SELECT string_agg(source || ':' || status || ':' || everyone || ':' || coalesce(target::text, '-'), ' ' ORDER BY id) FROM deliveries")" \
	'staff:queued:false:{"all": [{"any": ["kurabuchi"], "item": "region"}]} staff:scheduled:true:- staff:queued:false:{"all": [{"any": ["kurabuchi"], "item": "region"}]}'
is "audit rows: send, schedule, test_send, each naming the delivery" \
	"$(sql "$db" "SELECT string_agg(actor || ' ' || action || ' ' || target, ', ' ORDER BY id) FROM audit_log WHERE action LIKE 'delivery.%'")" \
	"tamura delivery.send delivery:$d_now, tamura delivery.schedule delivery:$d_sched, tamura delivery.test_send delivery:$d_test"
like "the audit detail has the title and status" \
	"$(sql "$db" "SELECT detail::text FROM audit_log WHERE target = 'delivery:$d_sched'")" '"title": "予約", "status": "scheduled"'
as suzuki
admin_api POST /api/deliveries/test '{"body":"test of an everyone draft","everyone":true}'
d_test2=$(jget "$body" '["delivery"]["id"]')
is "a 一般職員 may test-send an everyone draft: stored as a test, never as everyone" \
	"$status $(sql "$db" "SELECT is_test || ' ' || everyone || ' ' || (target IS NULL) FROM deliveries WHERE id = $d_test2")" \
	"201 true false true"
as tamura
sql "$db" "UPDATE residents SET is_tester = false" >/dev/null
admin_api POST /api/deliveries/test '{"body":"no testers"}'
is "test-send with no test receivers is 409 with a Japanese message" "$status $(jget "$body" '["message"]')" \
	"409 テスト受信者が登録されていません。管理者にテスト受信者の登録を依頼してください。"
sql "$db" "UPDATE residents r SET is_tester = true WHERE r.id IN (SELECT id FROM residents ORDER BY id LIMIT 1)
	OR r.id IN (SELECT id FROM residents ORDER BY id OFFSET 5 LIMIT 1)" >/dev/null

# --- cancel -------------------------------------------------------------------------------
admin_api POST "/api/deliveries/$d_sched/cancel"
is "cancel a scheduled delivery: 200 cancelled" "$status $(jget "$body" '["delivery"]["status"]')" "200 cancelled"
is "by tamura, in the database" "$(sql "$db" "SELECT status || ' ' || cancelled_by || ' ' || (cancelled_at IS NOT NULL) FROM deliveries WHERE id = $d_sched")" "cancelled $tamura_id true"
admin_api POST "/api/deliveries/$d_sched/cancel"
is "cancelling it again is 409" "$status $(jget "$body" '["error"]')" "409 conflict"
sql "$db" "UPDATE deliveries SET status = 'sending', started_at = now() WHERE id = $d_now" >/dev/null
admin_api POST "/api/deliveries/$d_now/cancel"
is "cancel once sending: 409" "$status" 409
like "saying why in Japanese" "$body" '"message":"この配信はすでに送信が始まったか終わっているため、取り消せません。"'
sql "$db" "UPDATE deliveries SET status = 'done', finished_at = now(), targeted = 3, accepted = 2, failed = 1 WHERE id = $d_now" >/dev/null
admin_api POST "/api/deliveries/$d_now/cancel"
is "cancel once done: 409" "$status" 409
admin_api POST /api/deliveries/999999/cancel
is "cancel of a delivery that does not exist: 404" "$status" 404
is "one cancel audit row" "$(sql "$db" "SELECT count(*) FROM audit_log WHERE action = 'delivery.cancel'")" 1

# --- 一般職員: the scope ----------------------------------------------------------------
as suzuki
admin_api POST /api/deliveries '{"body":"all","everyone":true}'
is "一般職員 to everyone: 403" "$status $(jget "$body" '["error"]')" "403 forbidden"
like "saying so, in Japanese" "$body" '全員への配信は管理者だけが行えます'
admin_api POST /api/deliveries '{"body":"x","target":{"all":[{"item":"region","any":["shinmachi"]}]}}'
is "一般職員 to a value outside the scope: 403" "$status" 403
like "naming the values they may use" "$(jget "$body" '["message"]')" '指定できるのは次の値です: 住んでいる地域: 倉渕・榛名'
admin_api POST /api/deliveries '{"body":"x","target":{"all":[{"item":"region","any":["kurabuchi","shinmachi"]}]}}'
is "一般職員, values in and out of the scope mixed: 403" "$status" 403
admin_api POST /api/deliveries '{"body":"x","target":{"any":[{"item":"region","any":["kurabuchi"]},{"item":"category","any":["event"]}]}}'
is "一般職員, an OR that widens beyond the scope: 403" "$status" 403
admin_api POST /api/deliveries '{"body":"x","target":{"all":[{"item":"region","any":["kurabuchi"]},{"residents":[1]}]}}'
is "一般職員 naming particular residents: 403" "$status" 403
admin_api POST /api/deliveries '{"body":"x","target":{"all":[{"not":{"item":"region","any":["kurabuchi"]}}]}}'
is "一般職員 with a NOT of their value (everyone else): 403" "$status" 403
admin_api POST /api/deliveries '{"title":"倉渕","body":"suzuki 1","target":{"all":[{"item":"region","any":["kurabuchi","haruna"]}]}}'
is "一般職員 inside the scope: 201" "$status" 201
d_suz=$(jget "$body" '["delivery"]["id"]')
admin_api POST /api/deliveries '{"body":"suzuki 2","target":{"all":[{"item":"region","any":["haruna"]},{"item":"category","any":["disaster"]}]}}'
is "一般職員 inside the scope narrowed by another item: 201" "$status" 201
is "summarised with both items" "$(jget "$body" '["delivery"]["target_label"]')" "住んでいる地域: 榛名 かつ 配信希望のカテゴリー: 防災"
admin_api POST "/api/deliveries/$d_test/cancel"
is "一般職員 cancelling someone else's delivery: 403" "$status" 403
like "saying only their own" "$body" '取り消せるのは自分が作成した配信だけです'
as kimura
admin_api POST /api/deliveries '{"body":"x","target":{"all":[{"item":"region","any":["kurabuchi"]}]}}'
is "一般職員 without any scope: 403" "$status" 403
like "told to ask a 管理者" "$body" '配信できるセグメントが割り当てられていません'
check_fails "the database refuses an out-of-scope staff delivery whatever the client" \
	sql_as hotline_admin "$db" "INSERT INTO deliveries (source, title, messages, target, status, created_by)
	VALUES ('staff', 'bypass', '[{\"type\":\"text\",\"text\":\"x\"}]',
		'{\"all\":[{\"item\":\"region\",\"any\":[\"shinmachi\"]}]}', 'queued', $suzuki_id)"
check_fails "nor an update widening one" \
	sql_as hotline_admin "$db" "UPDATE deliveries SET target = NULL, everyone = true WHERE id = $d_suz"
check "but keeps an in-scope one" \
	sql_as hotline_admin "$db" "UPDATE deliveries SET target = '{\"all\":[{\"item\":\"region\",\"any\":[\"haruna\"]}]}' WHERE id = $d_suz"

# --- approval -----------------------------------------------------------------------------
as suzuki
admin_api PUT /api/settings/approval '{"required":true}'
is "一般職員 cannot change the approval setting" "$status" 403
as tamura
admin_api GET /api/settings/approval
is "approval is off by default" "$status $body" '200 {"required":false}'
admin_api PUT /api/settings/approval '{"required":true}'
is "管理者 turns it on" "$status $body" '200 {"required":true}'
is "settings.change is audited" "$(sql "$db" "SELECT actor || ' ' || (detail->>'to') FROM audit_log WHERE action = 'settings.change'")" "tamura true"
as suzuki
admin_api POST /api/deliveries '{"title":"承認待ち","body":"P1","target":{"all":[{"item":"region","any":["haruna"]}]}}'
is "a send now waits for approval" "$status $(jget "$body" '["delivery"]["status"]')" "201 pending_approval"
d_p1=$(jget "$body" '["delivery"]["id"]')
admin_api POST /api/deliveries "{\"title\":\"承認待ち予約\",\"body\":\"P2\",\"target\":{\"all\":[{\"item\":\"region\",\"any\":[\"kurabuchi\"]}]},\"send_at\":\"$soon\"}"
is "so does a schedule" "$status $(jget "$body" '["delivery"]["status"]')" "201 pending_approval"
d_p2=$(jget "$body" '["delivery"]["id"]')
is "audited as delivery.submit" "$(sql "$db" "SELECT count(*) FROM audit_log WHERE action = 'delivery.submit' AND actor = 'suzuki'")" 2
admin_api POST "/api/deliveries/$d_p1/approve"
is "the author cannot approve their own" "$status" 403
like "saying so" "$body" '自分が作成した配信は承認できません'
as yamada
admin_api POST "/api/deliveries/$d_p1/approve"
is "another 一般職員 whose scope does not cover it cannot approve" "$status" 403
admin_api POST "/api/deliveries/$d_p2/approve"
is "another 一般職員 whose scope covers it approves: scheduled" "$status $(jget "$body" '["delivery"]["status"]')" "200 scheduled"
as tamura
admin_api POST "/api/deliveries/$d_p1/approve"
is "a 管理者 approves: queued" "$status $(jget "$body" '["delivery"]["status"]') $(jget "$body" '["delivery"]["approved_by"]["display_name"]')" "200 queued tamura"
admin_api POST "/api/deliveries/$d_p1/approve"
is "approving twice is 409" "$status" 409
admin_api POST /api/deliveries '{"title":"管理者の","body":"P3","everyone":true}'
d_p3=$(jget "$body" '["delivery"]["id"]')
is "a 管理者's own delivery waits too" "$(jget "$body" '["delivery"]["status"]')" pending_approval
admin_api POST "/api/deliveries/$d_p3/approve"
is "and the 管理者 cannot approve it" "$status" 403
as sato
admin_api POST "/api/deliveries/$d_p3/approve"
is "another 管理者 can" "$status $(jget "$body" '["delivery"]["status"]')" "200 queued"
is "approvals in the database and the audit log" \
	"$(sql "$db" "SELECT string_agg(d.id || ':' || s.login, ' ' ORDER BY d.id) FROM deliveries d JOIN staff s ON s.id = d.approved_by")
$(sql "$db" "SELECT string_agg(actor || ' ' || target, ', ' ORDER BY id) FROM audit_log WHERE action = 'delivery.approve'")" \
	"$d_p1:tamura $d_p2:yamada $d_p3:sato
yamada delivery:$d_p2, tamura delivery:$d_p1, sato delivery:$d_p3"
as tamura
admin_api PUT /api/settings/approval '{"required":false}'
is "approval off again" "$status" 200

# --- XSS-looking text is data ----------------------------------------------------------
xt='<script>alert(1)</script>'
admin_api POST /api/deliveries "{\"title\":\"$xt\",\"body\":\"\\\"><img src=x onerror=alert(1)>\",$T}"
is "XSS-looking text is accepted" "$status" 201
d_x=$(jget "$body" '["delivery"]["id"]')
like "and answered as application/json" "$(grep -i '^content-type:' "$tap_tmp/admin.h")" 'application/json'
admin_api GET "/api/deliveries/$d_x"
is "the title comes back verbatim" "$(jget "$body" '["title"]')" "$xt"
like "and the body, inside the message text" "$(jget "$body" '["messages"][0]["text"]')" "^$xt
\"><img src=x onerror=alert\(1\)>"
is "stored verbatim" "$(sql "$db" "SELECT title FROM deliveries WHERE id = $d_x")" "$xt"

# --- history ------------------------------------------------------------------------------
mail_d=$(sql "$db" "INSERT INTO deliveries (source, title, messages, target, status, targeted, accepted, failed, finished_at)
	VALUES ('mail', '【防災】倉渕・榛名', '[{\"type\":\"text\",\"text\":\"m\"}]',
		'{\"all\":[{\"item\":\"region\",\"any\":[\"kurabuchi\",\"haruna\"]},{\"item\":\"category\",\"any\":[\"disaster\"]}]}',
		'done', 10, 9, 1, now()) RETURNING id")
mail_id=$(sql "$db" "INSERT INTO mails (via, dedupe_key, envelope_from, envelope_to, raw, status, delivery_id)
	VALUES ('lmtp', 'mid:x@test', 'a@b', '{bridge@c}', 'raw', 'queued', $mail_d) RETURNING id")
admin_api GET "/api/deliveries?source=mail"
is "history filtered by source: the mail delivery" "$status $(jget "$body" '["items"].__len__()') $(jget "$body" '["items"][0]["id"]')" "200 1 $mail_d"
is "with figures, source, mail id and no author" \
	"$(jget "$body" '["items"][0]["targeted"]') $(jget "$body" '["items"][0]["accepted"]') $(jget "$body" '["items"][0]["failed"]') $(jget "$body" '["items"][0]["source"]') $(jget "$body" '["items"][0]["mail_id"]') $(jget "$body" '["items"][0]["created_by"]')" \
	"10 9 1 mail $mail_id null"
is "and its target in Japanese" "$(jget "$body" '["items"][0]["target_label"]')" \
	"住んでいる地域: 倉渕・榛名 かつ 配信希望のカテゴリー: 防災"
like "times with the Japan offset" "$(jget "$body" '["items"][0]["finished_at"]')" '^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\+09:00$'
unlike "no messages in the list" "$body" '"messages"'
as suzuki
admin_api GET /api/deliveries
total=$(sql "$db" "SELECT count(*) FROM deliveries")
is "a 一般職員 sees the whole history, newest first" \
	"$status $(jget "$body" '["items"].__len__()') $(jget "$body" '["items"][0]["id"]') $(jget "$body" '["next"]')" \
	"200 $total $mail_d null"
admin_api GET "/api/deliveries?limit=2"
n1=$(jget "$body" '["next"]')
is "limit=2: two items and a cursor" "$(jget "$body" '["items"].__len__()') $n1" "2 $(jget "$body" '["items"][1]["id"]')"
admin_api GET "/api/deliveries?limit=2&before=$n1"
is "the next page starts below the cursor" "$(jget "$body" '["items"][0]["id"]')" \
	"$(sql "$db" "SELECT max(id) FROM deliveries WHERE id < $n1")"
admin_api GET "/api/deliveries?status=cancelled"
is "filtered by status" "$(jget "$body" '["items"].__len__()') $(jget "$body" '["items"][0]["id"]')" "1 $d_sched"
admin_api GET "/api/deliveries?status=bogus"
is "an unknown status is 400" "$status $(jget "$body" '["field"]')" "400 status"
admin_api GET "/api/deliveries?limit=500"
is "limit over 200 is 400" "$status" 400
admin_api GET "/api/deliveries/$d_now"
is "detail: figures and messages" \
	"$status $(jget "$body" '["targeted"]') $(jget "$body" '["accepted"]') $(jget "$body" '["failed"]') $(jget "$body" '["messages"][0]["type"]')" \
	"200 3 2 1 text"
admin_api GET /api/deliveries/99999999
is "detail of a delivery that does not exist: 404" "$status" 404
admin_api DELETE /api/deliveries
is "another method on the collection: 405" "$status" 405

is "the audit chain still verifies" "$(sql "$db" "SELECT audit_verify() IS NULL")" t

# --- the database goes away ---------------------------------------------------------------
# A query of this module stuck behind a lock, then cancelled by the server
# (as at shutdown): 503, not a crash.
psql -X -q -d "$db" -c "BEGIN; LOCK TABLE segment_items IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(60)" \
	>/dev/null 2>&1 &
lockpid=$!
i=0
while [ $i -lt 100 ] && [ "$(sql "$db" "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
	WHERE c.relname = 'segment_items' AND l.mode = 'AccessExclusiveLock' AND l.granted")" != 1 ]; do
	sleep 0.1
	i=$((i + 1))
done
admin_api POST /api/deliveries/count "{$T}" &
reqpid=$!
i=0
while [ $i -lt 100 ] && [ "$(sql "$db" "SELECT count(pg_cancel_backend(pid)) FROM pg_stat_activity
	WHERE datname = current_database() AND usename = 'hotline_admin' AND wait_event_type = 'Lock'")" = 0 ]; do
	sleep 0.1
	i=$((i + 1))
done
wait "$reqpid"
body=$(cat "$tap_tmp/admin.b")
is "a query cancelled by the server: 503 unavailable" "$(jget "$body" '["error"]')" unavailable
sql "$db" "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()
	AND query LIKE '%pg_sleep(60)%' AND pid <> pg_backend_pid()" >/dev/null
wait "$lockpid" 2>/dev/null
check "hotline-admin's role is locked out of its database" sql "$db" \
	"ALTER DATABASE \"$db\" CONNECTION LIMIT 0;
	 SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
	 WHERE datname = current_database() AND pid <> pg_backend_pid()"
admin_api POST /api/deliveries "{\"body\":\"outage\",$T}"
is "send with the database unreachable: 503" "$status $(jget "$body" '["error"]')" "503 unavailable"
check "the database comes back" sql "$db" "ALTER DATABASE \"$db\" CONNECTION LIMIT -1"
admin_api POST /api/deliveries/count "{$T}"
is "and the API answers again" "$status $(jget "$body" '["count"]')" "200 3"
check "hotline-admin is still running" kill -0 "$admin_pid"

# --- end to end: the real pusher delivers to linesim -----------------------------------
check "earlier deliveries are put aside" sql "$db" \
	"UPDATE deliveries SET status = 'cancelled', cancelled_at = now()
	  WHERE status IN ('queued', 'scheduled', 'pending_approval')"
HOTLINE_LINE_CHANNEL_TOKEN=$token "$HL_BIN/hotline-pusher" -c "$ADMIN_CONF" 2>"$tap_tmp/pusher.log" &
pupid=$!
if wait_http "http://127.0.0.1:$mport/healthz"; then ok "the pusher runs"; else not_ok "the pusher runs" "$(cat "$tap_tmp/pusher.log")"; fi
# wait_for DESCRIPTION SQL WANT — poll the database (60 s at most).
wait_for() {
	i=0
	while [ $i -lt 600 ]; do
		got=$(sql "$db" "$2")
		[ "$got" = "$3" ] && { ok "$1"; return; }
		sleep 0.1
		i=$((i + 1))
	done
	not_ok "$1" "got: $got
want: $3
$(tail -20 "$tap_tmp/pusher.log")"
}
inbox() { curl -s "$L/sim/users/$1/inbox"; }
as suzuki
admin_api POST /api/deliveries/test '{"title":"試験配信","body":"E2ETEST","target":{"all":[{"item":"region","any":["kurabuchi"]}]}}'
is "一般職員 test-sends" "$status" 201
e_test=$(jget "$body" '["delivery"]["id"]')
wait_for "the test delivery is done, to the two testers" \
	"SELECT status || ' ' || targeted || ' ' || accepted FROM deliveries WHERE id = $e_test" "done 2 2"
admin_api POST /api/deliveries '{"title":"倉渕のお知らせ","style":"card","category":"disaster","body":"E2EREAL","link_url":"https://example.jp/k","target":{"all":[{"item":"region","any":["kurabuchi"]}]}}'
is "一般職員 sends a card to 倉渕" "$status" 201
e_real=$(jget "$body" '["delivery"]["id"]')
wait_for "the delivery is done, to three residents" \
	"SELECT status || ' ' || targeted || ' ' || accepted FROM deliveries WHERE id = $e_real" "done 3 3"
got=""
for n in 1 2 3 4 5 6; do
	b=$(inbox "$(u $n)")
	t=0 r=0
	case $b in *E2ETEST*) t=1 ;; esac
	case $b in *E2EREAL*) r=1 ;; esac
	got="$got r$n:$t$r"
done
is "test only to the testers (r1, r6); the card to 倉渕 and the one who chose nothing (r1, r3, r6)" \
	"$got" " r1:11 r2:00 r3:01 r4:00 r5:00 r6:11"
b=$(inbox "$(u 3)")
like "the card reached LINE as a flex message" "$b" '"message":\{"type":"flex"'
like "with the category on its colour" "$b" '"text":"防災","type":"text","wrap":true,"color":"#FFFFFF","weight":"bold"\}\],"paddingAll":"12px","backgroundColor":"#C62828"'
like "and the link" "$b" '"uri":"https://example.jp/k"'
admin_api GET "/api/deliveries/$e_real"
is "the history shows its figures" \
	"$(jget "$body" '["status"]') $(jget "$body" '["targeted"]') $(jget "$body" '["accepted"]') $(jget "$body" '["failed"]')" \
	"done 3 3 0"

kill -TERM "$admin_pid" "$pupid" "$simpid" 2>/dev/null
wait "$admin_pid" "$pupid" "$simpid" 2>/dev/null
unlike "no LINE user id in the daemons' logs" "$(cat "$alog" "$tap_tmp/pusher.log")" 'U[0-9a-f]{32}'
unlike "no sanitizer report (make asan)" "$(cat "$alog")" "Sanitizer|runtime error"
tap_done
