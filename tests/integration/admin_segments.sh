#!/bin/sh
# hotline-admin's segment API against a throwaway database: the tree with
# per-value counts of active residents and the residents' totals (seeded by
# SQL), in_scope for a 一般職員, 403 for a 一般職員 on every 管理者-only
# endpoint, creating, renaming, reordering, retiring and un-retiring items
# and values, validation (key format, labels, kind), taken keys and labels
# as 409 (never 500), permanent keys, labels that look like HTML stored
# verbatim, no upper bound on values, test receivers, the audit rows, and
# 503 while the database is away.
. "$HL_TOP/tests/lib.sh"
. "$HL_TOP/tests/lib_admin.sh"

port=$(free_port 1)
ADMIN_BASE="http://127.0.0.1:$port"
ADMIN_DB=$(db_new)
ADMIN_CONF=$(conf_for "$ADMIN_DB" "[admin]
listen = 127.0.0.1:$port
ip_lockout_threshold = 1000")
db=$ADMIN_DB
check "migrate" ctl "$ADMIN_CONF" migrate
check "a 管理者" admin_make boss boss-password-2026 admin 広報課
check "a 一般職員" admin_make clerk clerk-password-2026 staff 防災課
log="$tap_tmp/admin.log"
if admin_start "$ADMIN_CONF" "$log"; then ok "hotline-admin listens"; else not_ok "hotline-admin listens" "$(cat "$log")"; fi

# as NAME: use NAME's session (signed in below).
as() { eval "admin_cookie=\$${1}_c admin_csrf=\$${1}_t"; }
if admin_signin boss boss-password-2026; then ok "boss signs in"; else not_ok "boss signs in" "$status $body"; fi
boss_c=$admin_cookie boss_t=$admin_csrf
if admin_signin clerk clerk-password-2026; then ok "clerk signs in"; else not_ok "clerk signs in" "$status $body"; fi
clerk_c=$admin_cookie clerk_t=$admin_csrf
vid() { sql "$db" "SELECT v.id FROM segment_values v JOIN segment_items i ON i.id = v.item_id WHERE i.key = '$1' AND v.key = '$2'"; }
iid() { sql "$db" "SELECT id FROM segment_items WHERE key = '$1'"; }
# py EXPR: evaluate EXPR over the last answer (as j).
py() { printf '%s' "$body" | python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"; }

# --- the tree and its counts ----------------------------------------------------------------
as boss
admin_api GET /api/segments
is "GET /api/segments is 200" "$status" 200
is "the city's five items in order" "$(py "','.join(i['key'] for i in j['items'])")" "region,age_band,gender,category,child_birthdate"
is "region has its seven values in order" "$(py "','.join(v['key'] for v in j['items'][0]['values'])")" \
	"kyu_takasaki,kurabuchi,haruna,shinmachi,yoshii,gunma,misato"
is "no residents yet" "$(py "j['residents']")" "{'active': 0, 'blocked': 0, 'testers': 0}"
is "a 管理者's answer has no in_scope" "$(py "'in_scope' in j['items'][0]['values'][0]")" False

check "seed residents" sql "$db" "
	INSERT INTO residents (line_user_id, status, blocked_at, is_tester) VALUES
		('U' || repeat('1', 32), 'active', NULL, true),
		('U' || repeat('2', 32), 'active', NULL, false),
		('U' || repeat('3', 32), 'active', NULL, false),
		('U' || repeat('4', 32), 'blocked', now(), true);
	INSERT INTO resident_choices (resident_id, value_id)
	SELECT r.id, v.id FROM (VALUES ('1', 'region', 'kurabuchi'), ('1', 'category', 'disaster'),
		('2', 'region', 'kurabuchi'), ('3', 'region', 'haruna'), ('4', 'region', 'kurabuchi'),
		('2', 'category', 'disaster'), ('3', 'category', 'fire')) AS c(r, i, v)
	JOIN residents r ON r.line_user_id = 'U' || repeat(c.r, 32)
	JOIN segment_items i ON i.key = c.i JOIN segment_values v ON v.item_id = i.id AND v.key = c.v;
	INSERT INTO resident_dates (resident_id, item_id, value)
	SELECT r.id, i.id, DATE '2020-04-01' FROM residents r, segment_items i
	WHERE i.key = 'child_birthdate' AND r.line_user_id = 'U' || repeat('3', 32)"
admin_api GET /api/segments
is "totals: active, blocked, testers (active ones)" "$(py "j['residents']")" "{'active': 3, 'blocked': 1, 'testers': 1}"
is "counts per value are of active residents" \
	"$(py "[(v['key'], v['residents']) for v in j['items'][0]['values'][:3]]")" \
	"[('kyu_takasaki', 0), ('kurabuchi', 2), ('haruna', 1)]"
is "category counts" "$(py "[(v['key'], v['residents']) for v in j['items'][3]['values'] if v['residents']]")" \
	"[('disaster', 2), ('fire', 1)]"
is "a date item says how many active residents entered a date" \
	"$(py "[(i['key'], i.get('residents')) for i in j['items']]")" \
	"[('region', None), ('age_band', None), ('gender', None), ('category', None), ('child_birthdate', 1)]"

# --- a 一般職員: reads with in_scope, 403 on every change ----------------------------------
check "clerk may target kurabuchi" sql "$db" "INSERT INTO staff_segment_scope (staff_id, value_id)
	SELECT s.id, $(vid region kurabuchi) FROM staff s WHERE login = 'clerk'"
as clerk
admin_api GET /api/segments
is "a 一般職員 reads the tree" "$status" 200
is "with in_scope on each value" "$(py "[(v['key'], v['in_scope']) for v in j['items'][0]['values'][:3]]")" \
	"[('kyu_takasaki', False), ('kurabuchi', True), ('haruna', False)]"
region=$(iid region)
kura=$(vid region kurabuchi)
for ep in "POST /api/segments/items" "PATCH /api/segments/items/$region" \
	"POST /api/segments/items/$region/values" "PATCH /api/segments/values/$kura" \
	"PATCH /api/residents/1"; do
	admin_api ${ep% *} ${ep#* } '{"key":"x","label":"x","kind":"multi","position":1,"is_tester":true}'
	is "一般職員: $ep is 403" "$status $(py "j['error']")" "403 forbidden"
done
like "with a Japanese message" "$body" '"message":"この操作は管理者だけが行えます。"'
admin_api GET /api/residents/testers
is "一般職員: GET /api/residents/testers is 403" "$status" 403
is "nothing changed" "$(sql "$db" "SELECT count(*) FROM segment_items WHERE key = 'x'")|$(sql "$db" "SELECT label FROM segment_items WHERE id = $region")" "0|住んでいる地域"

# --- items ---------------------------------------------------------------------------------------
as boss
admin_api POST /api/segments/items '{"key":"school","label":"学区","kind":"multi","match_when_unset":false,"description":"小学校の学区"}'
is "create an item: 201" "$status" 201
school=$(py "j['id']")
is "the new item" "$(py "(j['key'], j['label'], j['kind'], j['match_when_unset'], j['retired'], j['position'] > 50)")" \
	"('school', '学区', 'multi', False, False, True)"
admin_api POST /api/segments/items '{"key":"school","label":"学区2","kind":"multi"}'
is "a taken key is 409" "$status $(py "j['error']")" "409 conflict"
like "with a Japanese message" "$body" 'このキーの項目は既にあります'
for k in School 1school "sch ool" "" "$(printf 'a%.0s' $(seq 64))"; do
	admin_api POST /api/segments/items "{\"key\":\"$k\",\"label\":\"学区\",\"kind\":\"multi\"}"
	is "key '$k' is refused" "$status $(py "j['error'], j['field']")" "400 invalid key"
done
like "naming the format in Japanese" "$body" 'キーは英小文字で始まり'
admin_api POST /api/segments/items '{"key":"k1","label":"","kind":"multi"}'
is "an empty label is 400 invalid label" "$status $(py "j['field']")" "400 label"
admin_api POST /api/segments/items '{"key":"k1","label":"   ","kind":"multi"}'
is "a blank label too" "$status $(py "j['field']")" "400 label"
admin_api POST /api/segments/items '{"key":"k1","label":"a\nb","kind":"multi"}'
is "a label with a newline too" "$status $(py "j['field']")" "400 label"
l100=$(python3 -c "print('あ' * 100)")
admin_api POST /api/segments/items "{\"key\":\"k1\",\"label\":\"${l100}い\",\"kind\":\"multi\"}"
is "101 characters is 400" "$status $(py "j['field']")" "400 label"
like "saying 100 characters" "$body" '表示名は100文字以内にしてください。'
admin_api POST /api/segments/items "{\"key\":\"k1\",\"label\":\"$l100\",\"kind\":\"single\",\"match_when_unset\":true}"
is "100 characters (300 bytes) is fine" "$status" 201
k1=$(py "j['id']")
admin_api POST /api/segments/items '{"key":"k2","label":"x","kind":"text"}'
is "an unknown kind is 400 invalid kind" "$status $(py "j['field']")" "400 kind"
admin_api POST /api/segments/items '{"key":"k2","label":"x","kind":"multi","match_when_unset":"yes"}'
is "match_when_unset must be a boolean" "$status $(py "j['field']")" "400 match_when_unset"
admin_api POST /api/segments/items 'not json'
is "a body that is not JSON is 400 bad_request" "$status $(py "j['error']")" "400 bad_request"

admin_api PATCH "/api/segments/items/$school" '{"label":"小学校区","position":5,"description":"新しい説明"}'
is "rename and move an item" "$status $(py "(j['label'], j['position'], j['description'])")" "200 ('小学校区', 5, '新しい説明')"
admin_api GET /api/segments
is "it now comes first" "$(py "j['items'][0]['key']")" school
admin_api PATCH "/api/segments/items/$school" '{"key":"school2"}'
is "a key cannot change: 400 invalid key" "$status $(py "j['field']")" "400 key"
like "saying so" "$body" 'キーは変更できません'
admin_api PATCH "/api/segments/items/$school" '{"kind":"single"}'
is "nor the kind" "$status $(py "j['field']")" "400 kind"
admin_api PATCH "/api/segments/items/$school" '{}'
is "an empty change is 400" "$status" 400
admin_api PATCH "/api/segments/items/$school" '{"position":"first"}'
is "a position must be an integer" "$status $(py "j['field']")" "400 position"
admin_api PATCH /api/segments/items/999999 '{"label":"x"}'
is "an unknown item is 404" "$status $(py "j['error']")" "404 not_found"
check "the key-permanence trigger stands behind it" sh -c "! psql -X -q -d '$db' -c \"UPDATE segment_items SET key = 'zz' WHERE id = $school\" 2>/dev/null"

admin_api PATCH "/api/segments/items/$k1" '{"retired":true}'
is "retire an item" "$status $(py "j['retired']")" "200 True"
admin_api GET /api/segments
is "a retired item is hidden by default" "$(py "[i['key'] for i in j['items'] if i['key'] == 'k1']")" "[]"
admin_api GET '/api/segments?include_retired=1'
is "and shown with include_retired=1" "$(py "[(i['key'], i['retired']) for i in j['items'] if i['key'] == 'k1']")" "[('k1', True)]"
admin_api PATCH "/api/segments/items/$k1" '{"retired":false}'
is "un-retire it" "$status $(py "j['retired']")" "200 False"

# --- values ----------------------------------------------------------------------------------------
admin_api POST "/api/segments/items/$school/values" '{"key":"nishi","label":"西小学校"}'
is "add a value: 201" "$status $(py "(j['key'], j['label'], j['item_id'], j['retired'])")" "201 ('nishi', '西小学校', $school, False)"
nishi=$(py "j['id']")
admin_api POST "/api/segments/items/$school/values" '{"key":"higashi","label":"東小学校"}'
higashi=$(py "j['id']")
is "values come in the order added" \
	"$(sql "$db" "SELECT string_agg(key, ',' ORDER BY position, id) FROM segment_values WHERE item_id = $school")" "nishi,higashi"
admin_api POST "/api/segments/items/$school/values" '{"key":"nishi","label":"別の名前"}'
is "a taken value key is 409" "$status $(py "j['error']")" "409 conflict"
admin_api POST "/api/segments/items/$school/values" '{"key":"nishi2","label":"西小学校"}'
is "a taken label is 409" "$status $(py "j['error']")" "409 conflict"
like "saying so in Japanese" "$body" '同じ表示名の値がこの項目に既にあります'
admin_api POST "/api/segments/items/$region/values" '{"key":"nishi","label":"西小学校"}'
is "the same key and label under another item is fine" "$status" 201
admin_api POST "/api/segments/items/$(iid child_birthdate)/values" '{"key":"a","label":"a"}'
is "a date item takes no values: 409" "$status $(py "j['error']")" "409 conflict"
admin_api POST /api/segments/items/999999/values '{"key":"a","label":"a"}'
is "an unknown item: 404" "$status" 404
admin_api POST "/api/segments/items/$school/values" '{"key":"Bad-Key","label":"a"}'
is "a bad value key is 400" "$status $(py "j['field']")" "400 key"

admin_api PATCH "/api/segments/values/$nishi" '{"label":"西部小学校","position":100}'
is "rename and move a value" "$status $(py "(j['label'], j['position'])")" "200 ('西部小学校', 100)"
admin_api PATCH "/api/segments/values/$higashi" '{"label":"西部小学校"}'
is "renaming onto a current label is 409" "$status $(py "j['error']")" "409 conflict"
admin_api PATCH "/api/segments/values/$nishi" '{"key":"west"}'
is "a value key cannot change" "$status $(py "j['field']")" "400 key"
admin_api PATCH "/api/segments/values/$nishi" '{"retired":true}'
is "retire a value" "$status $(py "j['retired']")" "200 True"
admin_api GET /api/segments
is "hidden by default" "$(py "[v['key'] for v in j['items'][0]['values']]")" "['higashi']"
admin_api GET '/api/segments?include_retired=1'
is "shown with include_retired=1" "$(py "[(v['key'], v['retired']) for v in j['items'][0]['values']]")" \
	"[('higashi', False), ('nishi', True)]"
admin_api POST "/api/segments/items/$school/values" '{"key":"nishi_new","label":"西部小学校"}'
is "a retired value's label may be reused" "$status" 201
admin_api PATCH "/api/segments/values/$nishi" '{"retired":false}'
is "then un-retiring the old one is 409, not 500" "$status $(py "j['error']")" "409 conflict"
admin_api PATCH "/api/segments/values/$nishi" '{"retired":false,"label":"旧西部小学校"}'
is "un-retire with a new label" "$status $(py "(j['label'], j['retired'])")" "200 ('旧西部小学校', False)"
admin_api PATCH /api/segments/values/999999 '{"label":"x"}'
is "an unknown value is 404" "$status" 404

xss='<script>alert("x")</script><img src=x onerror=alert(1)>'
admin_api POST "/api/segments/items/$school/values" "{\"key\":\"xss\",\"label\":\"$(printf '%s' "$xss" | sed 's/"/\\"/g')\"}"
is "a label that looks like HTML is accepted" "$status" 201
admin_api GET /api/segments
is "and given back verbatim" "$(py "[v['label'] for v in j['items'][0]['values'] if v['key'] == 'xss'][0]")" "$xss"
is "stored verbatim" "$(sql "$db" "SELECT label FROM segment_values WHERE key = 'xss'")" "$xss"
like "as JSON, never HTML" "$(grep -i '^content-type' "$tap_tmp/admin.h")" "application/json"

check "500 more values by SQL" sql "$db" "INSERT INTO segment_values (item_id, key, label, position)
	SELECT $school, 'v' || g, '値' || g, 1000 + g FROM generate_series(1, 500) g"
admin_api GET /api/segments
is "no upper bound: all of them are listed" "$(py "len(j['items'][0]['values'])")" 504

# --- the audit trail -------------------------------------------------------------------------
is "every change was audited" \
	"$(sql "$db" "SELECT string_agg(action || ':' || n, ',' ORDER BY action) FROM (SELECT action, count(*) n FROM audit_log WHERE action LIKE 'segment.%' GROUP BY action) a")" \
	"segment.item_create:2,segment.item_update:3,segment.value_create:5,segment.value_update:3"
is "with before/after of what changed, who and from where" \
	"$(sql "$db" "SELECT actor || '|' || (detail->'before')::text || '|' || (detail->'after')::text || '|' || target || '|' || host(ip) FROM audit_log WHERE action = 'segment.value_update' ORDER BY id LIMIT 1")" \
	"boss|{\"label\": \"西小学校\", \"position\": 10}|{\"label\": \"西部小学校\", \"position\": 100}|segment_value:$nishi|127.0.0.1"
is "refused changes left no audit row" "$(sql "$db" "SELECT count(*) FROM audit_log WHERE actor = 'clerk' AND action LIKE 'segment.%'")" 0

# --- test receivers --------------------------------------------------------------------------
admin_api GET /api/residents/testers
is "testers: 200" "$status" 200
is "the testers, newest first (id, status)" "$(py "[(i['status'], i['is_tester']) for i in j['items']]")" \
	"[('blocked', True), ('active', True)]"
like "with followed_at in Japan time" "$(py "j['items'][0]['followed_at']")" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\+09:00$'
unlike "and no LINE user id" "$body" 'U1111|line_user_id'
admin_api GET '/api/residents/testers?all=1&limit=3'
is "all residents, paged" "$(py "(len(j['items']), j['next'] is not None)")" "(3, True)"
admin_api GET "/api/residents/testers?all=1&limit=3&before=$(py "j['next']")"
is "the next page" "$(py "(len(j['items']), j['next'])")" "(1, None)"
r2=$(sql "$db" "SELECT id FROM residents WHERE line_user_id = 'U' || repeat('2', 32)")
admin_api PATCH "/api/residents/$r2" '{"is_tester":true}'
is "make a resident a test receiver" "$status $(py "(j['id'], j['is_tester'])")" "200 ($r2, True)"
admin_api GET /api/segments
is "the testers' total follows" "$(py "j['residents']['testers']")" 2
admin_api PATCH "/api/residents/$r2" '{"is_tester":"yes"}'
is "is_tester must be a boolean" "$status $(py "j['field']")" "400 is_tester"
admin_api PATCH /api/residents/999999 '{"is_tester":true}'
is "an unknown resident is 404" "$status" 404
admin_api PATCH "/api/residents/$r2" '{"is_tester":false}'
is "unset it" "$status $(py "j['is_tester']")" "200 False"
is "audited as resident.tester" \
	"$(sql "$db" "SELECT string_agg(target || ' ' || (detail->>'after'), ',' ORDER BY id) FROM audit_log WHERE action = 'resident.tester'")" \
	"resident:$r2 true,resident:$r2 false"

# --- the database goes away: 503 ----------------------------------------------------------------
check "cut hotline_admin off this database" sql "$db" "
	REVOKE CONNECT ON DATABASE $db FROM hotline_admin;
	SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '$db' AND usename = 'hotline_admin'"
admin_api GET /api/segments
is "GET /api/segments is 503 unavailable" "$status $(py "j['error']")" "503 unavailable"
like "with a Japanese message" "$body" 'しばらくしてから'
check "the database comes back" sql "$db" "GRANT CONNECT ON DATABASE $db TO hotline_admin"
admin_api GET /api/segments
is "and it answers again" "$status" 200

kill "$admin_pid" 2>/dev/null
wait "$admin_pid" 2>/dev/null
unlike "no error was logged (no 500 path taken)" "$(grep 'level=error' "$log")" '.'
unlike "no label or LINE user id in the log" "$(cat "$log")" '西部小学校|U1111|<script>'
tap_done
