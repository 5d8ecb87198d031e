#!/bin/sh
# hotline-admin's mail bridge API against a throwaway database, a real
# hotline-admin and a real hotline-lmtpd: the rules editor (GET/PUT round
# trip, each validation error naming the rule and the field, 管理者 only,
# the audit row), the test panel on every sample (the same answer as
# `hotlinectl rules test`, unsaved forms, a malformed or oversized paste),
# a saved change used by the running lmtpd at the next mail, the inbound
# mail log (list, filters, paging, detail, raw download and its audit),
# an XSS-looking subject returned verbatim, and the database gone (503).
. "$HL_TOP/tests/lib.sh"
. "$HL_TOP/tests/lib_admin.sh"

samples="$HL_TOP/tests/fixtures/mail"
port=$(free_port 1)
lport=$(free_port 2)
ADMIN_BASE="http://127.0.0.1:$port"
ADMIN_DB=$(db_new)
ADMIN_CONF=$(conf_for "$ADMIN_DB" "[admin]
listen = 127.0.0.1:$port
[lmtp]
listen = 127.0.0.1:$lport
hostname = lmtp.test")
db=$ADMIN_DB
conf=$ADMIN_CONF
check "migrate" ctl "$conf" migrate
check "load the demo mail rules" psql -X -q -v ON_ERROR_STOP=1 -1 -d "$db" \
	-f "$HL_TOP/db/demo/0002_mail_rules.sql"

log="$tap_tmp/admin.log"
if admin_start "$conf" "$log"; then ok "hotline-admin listens"; else not_ok "hotline-admin listens" "$(cat "$log")"; fi
check "a 管理者" admin_make kanri kanri-password-2026 admin 防災課
check "a 一般職員" admin_make ippan ippan-password-2026 staff 広報課
admin_signin ippan ippan-password-2026 && ok "the 一般職員 signs in" || not_ok "the 一般職員 signs in" "$status $body"
s_cookie=$admin_cookie s_csrf=$admin_csrf
admin_signin kanri kanri-password-2026 && ok "the 管理者 signs in" || not_ok "the 管理者 signs in" "$status $body"
a_cookie=$admin_cookie a_csrf=$admin_csrf
as_admin() { admin_cookie=$a_cookie admin_csrf=$a_csrf; }
as_staff() { admin_cookie=$s_cookie admin_csrf=$s_csrf; }

# api_file METHOD PATH FILE — a request whose JSON body is in FILE.
api_file() {
	status=$(curl -s -X "$1" -o "$tap_tmp/admin.b" -D "$tap_tmp/admin.h" -w '%{http_code}' \
		--max-time 20 -H "Cookie: hl_session=$admin_cookie" -H "X-CSRF-Token: $admin_csrf" \
		-H "Content-Type: application/json" --data-binary "@$3" "${ADMIN_BASE}$2")
	body=$(cat "$tap_tmp/admin.b")
}
header() { grep -i "^$1:" "$tap_tmp/admin.h" | tr -d '\r' | tr 'A-Z' 'a-z'; }
# py CODE — python3 with the last body as v (parsed), printing CODE's result.
py() {
	printf '%s' "$body" | python3 -c 'import json,sys
v = json.load(sys.stdin)
r = eval(sys.argv[1])
print(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False, sort_keys=True, separators=(",", ":")))' "$1"
}
# edit CODE — the rule form of the last GET, changed by CODE (python
# statements over the list r), as a PUT body in $tap_tmp/put.json.
edit() {
	printf '%s' "$rules_json" | python3 -c 'import json,sys
r = json.load(sys.stdin)
exec(sys.argv[1])
json.dump({"rules": r}, open(sys.argv[2], "w"), ensure_ascii=False)' "$1" "$tap_tmp/put.json"
}
# mailjson FILE [EXTRA-PYTHON-DICT] — a test panel body for a mail file.
mailjson() {
	python3 -c 'import json,sys
d = {"raw": open(sys.argv[1], encoding="utf-8").read()}
d.update(json.loads(sys.argv[2]))
json.dump(d, open(sys.argv[3], "w"), ensure_ascii=False)' "$1" "${2:-{\}}" "$tap_tmp/test.json" || rm -f "$tap_tmp/test.json"
}

# --- GET /api/mail-rules -----------------------------------------------------------
as_staff
admin_api GET /api/mail-rules
is "a 一般職員 cannot read the rules (the sender allowlist is in them)" "$status" 403
as_admin
admin_api GET /api/mail-rules
is "a 管理者 reads the rules" "$status" 200
rules_json=$(py 'v["rules"]')
is "the demo's six rules, in order, with their kinds" \
	"$(py '" ".join(x["kind"] + "@" + str(x["position"]) for x in v["rules"])')" \
	"sender_allow@10 strip@20 keyword@30 keyword@40 append@50 fallback@60"
is "a keyword rule names its item and maps keywords to value keys (全域 = everyone)" \
	"$(py '[v["rules"][3]["item"], v["rules"][3]["values"][1], v["rules"][3]["values"][-1]]')" \
	'["region",{"everyone":false,"keyword":"倉渕","value":"kurabuchi"},{"everyone":true,"keyword":"全域","value":null}]'
is "the form comes with the segment items and values a rule can point at" \
	"$(py '[(i["key"], i["label"], [x["key"] for x in i["values"]][:2]) for i in v["items"] if i["key"] in ("region", "category")]')" \
	'[["region","住んでいる地域",["kyu_takasaki","kurabuchi"]],["category","配信希望のカテゴリー",["crime_prevention","traffic_safety"]]]'
ids_before=$(py '[x["id"] for x in v["rules"]]')

# --- PUT: the round trip -------------------------------------------------------------
edit 'r[4]["text"] = "詳しくは市のホームページへ。\nhttps://www.city.takasaki.example.jp/"
r[2]["values"].append({"keyword": "不審者", "value": "crime_prevention"})
r.insert(2, {"kind": "strip", "name": "署名", "part": "body", "pattern": "^-- \\n[\\s\\S]*", "enabled": False})'
as_staff
api_file PUT /api/mail-rules "$tap_tmp/put.json"
is "a 一般職員 cannot change the rules" "$status" 403
is "and nothing was written" "$(sql "$db" "SELECT count(*) FROM mail_rules")" 6
as_admin
admin_req PUT /api/mail-rules "$admin_cookie" "" '{"rules":[]}'
is "a PUT without the CSRF token is refused" "$status" 403
api_file PUT /api/mail-rules "$tap_tmp/put.json"
is "a 管理者 saves an edited rule set" "$status" 200
is "the answer is the saved form: positions renumbered, the new rule inserted" \
	"$(py '" ".join(x["kind"] + "@" + str(x["position"]) + ("" if x["enabled"] else "-off") for x in v["rules"])')" \
	"sender_allow@10 strip@20 strip@30-off keyword@40 keyword@50 append@60 fallback@70"
is "kept rules keep their ids (stored traces still name them)" \
	"$(py '[x["id"] for i, x in enumerate(v["rules"]) if i != 2]')" "$ids_before"
admin_api GET /api/mail-rules
is "GET gives back what was saved (text, new keyword, disabled rule)" \
	"$(py '[v["rules"][5]["text"], v["rules"][3]["values"][-1]["keyword"], v["rules"][2]["name"], v["rules"][2]["enabled"]]')" \
	'["詳しくは市のホームページへ。\nhttps://www.city.takasaki.example.jp/","不審者","署名",false]'
is "the database holds it with the editor as updated_by" \
	"$(sql "$db" "SELECT count(*) || '|' || count(*) FILTER (WHERE updated_by = (SELECT id FROM staff WHERE login = 'kanri')) FROM mail_rules")" \
	"7|7"
rules_json=$(py 'v["rules"]')
audit=$(sql "$db" "SELECT actor || '|' || target || '|' || (detail->>'rules') || '|' || (detail->'changed')::text || '|' || jsonb_array_length(detail->'before') || '|' || (detail->'after'->2)::text FROM audit_log WHERE action = 'mail_rule.change'")
like "one audit row mail_rule.change with a before/after summary and the changed rules" "$audit" \
	'^kanri\|mail_rules\|7\|\[[0-9]+, [0-9]+\]\|6\|\{"id": null, "kind": "strip", "name": "署名", "enabled": false\}$'

# --- PUT: each validation error -------------------------------------------------------
# invalid NAME CODE FIELD INDEX MESSAGE-PATTERN
invalid() {
	edit "$2"
	api_file PUT /api/mail-rules "$tap_tmp/put.json"
	is "$1: 400 invalid naming the field and the rule" \
		"$status $(py '[v["error"], v.get("field"), v.get("index")]')" "400 [\"invalid\",\"$3\",$4]"
	like "$1: the message says which rule and what is wrong" "$(py 'v["message"]')" "$5"
}
invalid "a pattern that does not compile" 'r[1]["pattern"] = "━{10,}(unclosed"' pattern 1 \
	'^ルール 2（フッター（送信専用・配信停止の案内））: パターン（pattern）に誤りがあります（[0-9]+ バイト目付近）: missing closing parenthesis'
invalid "a bad pattern in a disabled rule" 'r[2]["pattern"] = "[z-a]"' pattern 2 \
	'^ルール 3（署名）: パターン.*range out of order'
invalid "a keyword mapped to a value of another item" \
	'r[4]["values"].append({"keyword": "防犯", "value": "crime_prevention"})' values 4 \
	'^ルール 5（地区）: キーワード「防犯」の値「防犯」は項目「配信希望のカテゴリー」の値で、この規則の項目「住んでいる地域」の値ではありません'
invalid "a value key that does not exist" 'r[4]["values"][0]["value"] = "atlantis"' values 4 \
	'値「atlantis」は項目「住んでいる地域」にありません'
invalid "two enabled fallbacks" 'r.append({"kind": "fallback", "name": "予備", "fallback_action": "everyone"})' \
	enabled 7 '^ルール 8（予備）: 該当なしの扱い（fallback）の有効なルールはルール 7 とこの 2 つあります'
invalid "an unknown kind" 'r[0]["kind"] = "forward"' kind 0 '^ルール 1（安心ほっとメールの送信元）: 種類（kind）は'
invalid "a keyword rule without an item" 'del r[3]["item"]' item 3 '^ルール 4（種別）: キーワードを対応させる項目（item）を選んでください'
invalid "an append rule without text" 'r[5]["text"] = ""' text 5 '追加する文（text）を入力してください'
invalid "an append rule without a placement" 'r[5]["placement"] = "middle"' placement 5 'head（先頭）か tail（末尾）'
invalid "a strip rule without a part" 'r[1]["part"] = None' part 1 'subject（件名）か body（本文）'
invalid "a fallback to a segment with an unknown value" \
	'r[6]["fallback_action"] = "segment"; r[6]["fallback_target"] = {"all": [{"item": "region", "any": ["atlantis"]}]}' \
	fallback_target 6 '配信先（fallback_target）が正しくありません: target filter: item "region" has no value "atlantis"'
invalid "a fallback without its action" 'r[6]["fallback_action"] = "maybe"' fallback_action 6 'everyone（全員に配信）'
invalid "a rule id that is not in the set" 'r[0]["id"] = 999999' id 0 '他の職員が削除しました'
invalid "a name over 200 characters" 'r[0]["name"] = "あ" * 201' name 0 '名前（name）は 200 文字までです'
invalid "a keyword listed twice" 'r[3]["values"].append(dict(r[3]["values"][0]))' values 3 'の同じ対応が 2 回あります'
admin_api PUT /api/mail-rules '{"rules":{"kind":"strip"}}'
is "rules that are not a list: 400 on the field rules" "$status $(py 'v.get("field")')" "400 rules"
admin_api PUT /api/mail-rules 'not json'
is "a body that is not JSON: 400" "$status $(py 'v["error"]')" "400 bad_request"
is "no refused PUT changed anything or wrote an audit row" \
	"$(sql "$db" "SELECT (SELECT count(*) FROM mail_rules) || '|' || (SELECT count(*) FROM audit_log WHERE action = 'mail_rule.change')")" \
	"7|1"

# --- the test panel: the samples, as hotlinectl rules test ---------------------------------
# render — the panel's answer as `hotlinectl rules test` prints it (without
# the trace line, whose timings differ).
render() {
	py '"\n".join(["件名: " + v["decoded"]["subject"], "差出人 (envelope): " + (v["envelope_from"] or "<>"), "結果: " + v["result_label"]] + (["理由: " + v["hold_reason"]] if v["hold_reason"] is not None else []) + ["配信先: " + (json.dumps(v["target"], sort_keys=True, separators=(",", ":"), ensure_ascii=False) if v["target"] is not None else "全員 (everyone)")] + sum([["--- LINE メッセージ %d/%d ---" % (i + 1, len(v["messages"])), m["text"]] for i, m in enumerate(v["messages"])], []))'
}
# expected target and label per sample (rules as saved above)
want() {
	case $1 in
	01-*) echo '{"all":[{"any":["crime_prevention"],"item":"category"},{"any":["kurabuchi"],"item":"region"}]}|配信希望のカテゴリー: 防犯 かつ 住んでいる地域: 倉渕' ;;
	02-*) echo '{"all":[{"any":["disaster"],"item":"category"}]}|配信希望のカテゴリー: 防災' ;;
	03-*) echo '{"all":[{"any":["fire"],"item":"category"},{"any":["haruna"],"item":"region"}]}|配信希望のカテゴリー: 火災 かつ 住んでいる地域: 榛名' ;;
	04-*) echo '{"all":[{"any":["event"],"item":"category"},{"any":["shinmachi"],"item":"region"}]}|配信希望のカテゴリー: イベント かつ 住んでいる地域: 新町' ;;
	05-*) echo '{"all":[{"any":["childcare"],"item":"category"},{"any":["yoshii"],"item":"region"}]}|配信希望のカテゴリー: 子育て支援 かつ 住んでいる地域: 吉井' ;;
	06-*) echo '{"all":[{"any":["traffic_safety"],"item":"category"},{"any":["gunma","misato"],"item":"region"}]}|配信希望のカテゴリー: 交通安全 かつ 住んでいる地域: 群馬・箕郷' ;;
	esac
}
as_staff
for f in "$samples"/0[1-6]-*.eml; do
	n=$(basename "$f" .eml)
	mailjson "$f"
	api_file POST /api/mail-rules/test "$tap_tmp/test.json"
	is "$n: the test panel answers (a 一般職員 may use it)" "$status" 200
	is "$n: send, to the expected target, with its Japanese label" \
		"$(py 'v["result"]')|$(py 'v["target"]')|$(py 'v["target_label"]')" "send|$(want "$n")"
	is "$n: the LINE text is decoded, the footer stripped, the city's link appended" \
		"$(py '[v["messages"][0]["text"].startswith("【高崎市安心ほっとメール】"), "━" in v["text"], v["text"].endswith("詳しくは市のホームページへ。\nhttps://www.city.takasaki.example.jp/")]')" '[true,false,true]'
	panel=$(render)
	cli=$(ctl "$conf" rules test "$f" 2>&1 | grep -v '^ルールの記録: ')
	is "$n: the same answer as hotlinectl rules test" "$panel" "$cli"
done
is "the decoded headers of a Shift_JIS quoted-printable sample" \
	"$(mailjson "$samples/03-kasai-haruna-sjis-qp.eml"; api_file POST /api/mail-rules/test "$tap_tmp/test.json"; py '[v["decoded"]["from"], v["decoded"]["charset"], v["decoded"]["date"][:10], v["everyone"], v["held"]]')" \
	'["anshin-hot@city.takasaki.example.jp","shift_jis","2025-11-22",false,false]'
is "the trace has one named entry per stored rule" \
	"$(py '[(t["kind"], t["name"], t["matched"]) for t in v["trace"]][:3]')" \
	'[["sender_allow","安心ほっとメールの送信元",true],["strip","フッター（送信専用・配信停止の案内）",true],["keyword","種別",true]]'
is "rules test stored nothing" "$(sql "$db" "SELECT count(*) FROM mails")" 0

# Another envelope sender, then an unsaved form.
mailjson "$samples/01-bohan-kurabuchi-iso2022jp.eml" '{"from": "x@evil.example"}'
api_file POST /api/mail-rules/test "$tap_tmp/test.json"
is "another envelope sender is refused, nothing to send" \
	"$(py '[v["result"], v["messages"], v["target"], v["target_label"]]')" '["refuse",[],null,"配信しません"]'
like "with the reason" "$(py 'v["hold_reason"]')" '送信元 x@evil.example は許可された差出人ではない'
form=$(printf '%s' "$rules_json" | python3 -c 'import json,sys
r = json.load(sys.stdin)
r = [x for x in r if x["kind"] != "keyword"]
for x in r:
    if x["kind"] == "fallback": x["fallback_action"] = "everyone"
print(json.dumps(r, ensure_ascii=False))')
mailjson "$samples/01-bohan-kurabuchi-iso2022jp.eml" "{\"rules\": $form}"
api_file POST /api/mail-rules/test "$tap_tmp/test.json"
is "an unsaved form (no keyword rules, fallback everyone) is what the panel runs" \
	"$(py '[v["result"], v["everyone"], v["target"], v["target_label"], len(v["trace"]), v["trace"][-1]["index"]]')" \
	'["send",true,null,"全員",5,4]'
mailjson "$samples/01-bohan-kurabuchi-iso2022jp.eml" '{"rules": [{"kind": "keyword", "name": "壊れた", "part": "body", "pattern": "(", "item": "region", "values": []}]}'
api_file POST /api/mail-rules/test "$tap_tmp/test.json"
is "an unsaved form with a bad pattern: 400 naming the rule and field" \
	"$status $(py '[v.get("field"), v.get("index")]')" '400 ["pattern",0]'
is "the saved rules were not touched by the panel" \
	"$(sql "$db" "SELECT count(*) FROM mail_rules WHERE name = '壊れた'")" 0

# Malformed and oversized pastes.
admin_api POST /api/mail-rules/test '{"raw":"this is not a mail"}'
is "a malformed paste is a clear 400, not a crash" "$status $(py '[v["error"], v["field"]]')" '400 ["invalid","raw"]'
like "saying it cannot be read as a mail" "$(py 'v["message"]')" '^メールとして読み取れません: '
admin_api POST /api/mail-rules/test '{"raw":""}'
is "an empty paste: 400 on raw" "$status $(py 'v.get("field")')" "400 raw"
python3 -c 'import json; json.dump({"raw": "Subject: big\n\n" + ("x" * 76 + "\n") * 8000}, open("'"$tap_tmp"'/big.json", "w"))'
api_file POST /api/mail-rules/test "$tap_tmp/big.json"
is "an oversized paste is 413 too_large" "$status $(py 'v["error"]')" "413 too_large"
python3 -c 'import json; json.dump({"raw": "x" * 1100000}, open("'"$tap_tmp"'/huge.json", "w"))'
api_file POST /api/mail-rules/test "$tap_tmp/huge.json"
is "a body over the daemon's limit is 413 too" "$status" 413
admin_api GET /healthz
is "hotline-admin is still up" "$status" 200

# --- a saved change reaches the running hotline-lmtpd at the next mail ------------------
"$HL_BIN/hotline-lmtpd" -c "$conf" 2>"$tap_tmp/lmtpd.log" &
lpid=$!
i=0
until swaks --server "127.0.0.1:$lport" --protocol LMTP --quit-after CONNECT >/dev/null 2>&1 ||
	[ $i -ge 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
send() { ctl "$conf" mail send "$1" --lmtp "127.0.0.1:$lport" --from anshin-hot@city.takasaki.example.jp --to line-bridge@city.takasaki.example.jp 2>&1; }
for f in "$samples"/0[1-6]-*.eml; do send "$f" >/dev/null; done
is "the six samples went through hotline-lmtpd" \
	"$(sql "$db" "SELECT count(*) FROM mails WHERE status = 'queued'")" 6
target_of() { sql "$db" "SELECT d.target::text FROM deliveries d JOIN mails m ON m.delivery_id = d.id WHERE m.message_id LIKE '$1%'"; }
is "倉渕 maps to the region kurabuchi before the change" "$(target_of 20251120.)" \
	'{"all": [{"any": ["crime_prevention"], "item": "category"}, {"any": ["kurabuchi"], "item": "region"}]}'
as_admin
admin_api GET /api/mail-rules
rules_json=$(py 'v["rules"]')
edit 'r[4]["values"] = [x if x["keyword"] != "倉渕" else {"keyword": "倉渕", "value": "haruna"} for x in r[4]["values"]]'
api_file PUT /api/mail-rules "$tap_tmp/put.json"
is "a 管理者 maps 倉渕 to 榛名 instead" "$status" 200
sed 's/^Message-ID: <20251120\./Message-ID: <after-edit./' "$samples/01-bohan-kurabuchi-iso2022jp.eml" >"$tap_tmp/after-edit.eml"
out=$(send "$tap_tmp/after-edit.eml")
like "the next mail is accepted" "$out" "accepted"
is "and the running lmtpd used the saved rules at once" "$(target_of after-edit.)" \
	'{"all": [{"any": ["crime_prevention"], "item": "category"}, {"any": ["haruna"], "item": "region"}]}'

# An XSS-looking subject, and a refused sender for the log.
cat >"$tap_tmp/xss.eml" <<'EOF'
From: anshin-hot@city.takasaki.example.jp
To: line-bridge@city.takasaki.example.jp
Subject: <script>alert("x")</script><img src=x onerror=alert(1)>
Message-ID: <xss.1@city.takasaki.example.jp>
Date: Tue, 25 Nov 2025 10:00:00 +0900
Content-Type: text/plain; charset=UTF-8

【種別】防犯
【地区】倉渕
<b>太字</b> & "引用"
EOF
send "$tap_tmp/xss.eml" >/dev/null
sed 's/^Message-ID: <20251121\./Message-ID: <forged./' "$samples/02-bosai-all-utf8-base64.eml" >"$tap_tmp/forged.eml"
ctl "$conf" mail send "$tap_tmp/forged.eml" --lmtp "127.0.0.1:$lport" --from someone@elsewhere.example >/dev/null 2>&1
kill -TERM "$lpid"
wait "$lpid"

# --- the mail log ---------------------------------------------------------------------------
as_staff
admin_api GET /api/mails
is "a 一般職員 lists the mail log" "$status" 200
is "newest first, every mail with its status and delivery" \
	"$(py '[(x["status"], x["via"], x["delivery_status"]) for x in v["items"]][:3] + [len(v["items"]), v["next"]]')" \
	'[["ignored","lmtp",null],["queued","lmtp","queued"],["queued","lmtp","queued"],9,null]'
is "an XSS-looking subject is returned verbatim (JSON, nothing rendered)" \
	"$(py 'v["items"][1]["subject"]')" '<script>alert("x")</script><img src=x onerror=alert(1)>'
like "as application/json" "$(header content-type)" '^content-type: application/json'
like "times are ISO 8601 in Japan time" "$(py 'v["items"][0]["received_at"]')" \
	'^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\+09:00$'
admin_api GET '/api/mails?status=ignored'
is "filter by status" "$(py '[(x["status"], x["from"], x["envelope_from"]) for x in v["items"]]')" \
	'[["ignored","anshin-hot@city.takasaki.example.jp","someone@elsewhere.example"]]'
admin_api GET "/api/mails?q=$(python3 -c 'import urllib.parse; print(urllib.parse.quote("火災"))')"
is "a text query on the subject" "$(py '[len(v["items"]), "火災" in v["items"][0]["subject"]]')" '[1,true]'
admin_api GET '/api/mails?q=%25'
is "wildcards in the query are plain characters" "$(py 'len(v["items"])')" 0
admin_api GET '/api/mails?limit=4'
first=$(py '[x["id"] for x in v["items"]]')
next=$(py 'v["next"]')
is "paging: limit gives a page and a cursor" "$(py 'len(v["items"])')|$next" "4|$(py 'v["items"][-1]["id"]')"
admin_api GET "/api/mails?limit=4&before=$next"
is "the next page starts below the cursor" "$(py 'all(x["id"] < '"$next"' for x in v["items"]) and len(v["items"]) == 4')" "true"
admin_api GET '/api/mails?limit=500'
is "a limit over 200 is refused" "$status $(py 'v["field"]')" "400 limit"
admin_api GET '/api/mails?status=sent'
is "an unknown status is refused" "$status $(py 'v["field"]')" "400 status"

mid=$(sql "$db" "SELECT id FROM mails WHERE message_id LIKE '03-%' OR message_id LIKE '20251122.%' LIMIT 1")
admin_api GET "/api/mails/$mid"
is "one mail: decoded body, delivery, and the rule trace with rule names" \
	"$(py '["【種別】火災" in v["decoded_body"], v["delivery"]["status"], v["delivery"]["target"]["all"][1]["any"], [t["name"] for t in v["rule_trace"]][:2], v["envelope_to"]]')" \
	'[true,"queued",["haruna"],["安心ほっとメールの送信元","フッター（送信専用・配信停止の案内）"],["line-bridge@city.takasaki.example.jp"]]'
admin_api GET /api/mails/999999
is "an unknown mail is 404" "$status $(py 'v["error"]')" "404 not_found"

admin_api GET "/api/mails/$mid/raw"
is "the raw mail downloads" "$status" 200
like "as text/plain" "$(header content-type)" '^content-type: text/plain; charset=utf-8$'
like "as an attachment, never rendered" "$(header content-disposition)" "^content-disposition: attachment; filename=\"mail-$mid.eml\"$"
like "with nosniff" "$(header x-content-type-options)" 'nosniff'
is "byte for byte what was received" "$(cksum <"$tap_tmp/admin.b" | cut -d' ' -f1-2)" \
	"$(sql "$db" "SELECT encode(raw, 'base64') FROM mails WHERE id = $mid" | base64 -d | cksum | cut -d' ' -f1-2)"
is "reading an original is audited (mail.view_raw, by whom, which mail)" \
	"$(sql "$db" "SELECT actor || '|' || target FROM audit_log WHERE action = 'mail.view_raw'")" "ippan|mail:$mid"

# --- the database goes away: 503 ---------------------------------------------------------------
sql postgres "ALTER DATABASE $db ALLOW_CONNECTIONS false" >/dev/null
sql postgres "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '$db' AND pid <> pg_backend_pid()" >/dev/null
as_admin
admin_api GET /api/mails
is "with the database unreachable the log answers 503" "$status $(py 'v["error"]')" "503 unavailable"
mailjson "$samples/01-bohan-kurabuchi-iso2022jp.eml"
api_file POST /api/mail-rules/test "$tap_tmp/test.json"
is "and so does the test panel" "$status" 503
sql postgres "ALTER DATABASE $db ALLOW_CONNECTIONS true" >/dev/null
admin_api GET /api/mail-rules
is "once it is back the API answers again" "$status" 200

kill -TERM "$admin_pid"
wait "$admin_pid"
unlike "no mail text or subject in hotline-admin's log" "$(cat "$log")" '倉渕|script|火災'
tap_done
