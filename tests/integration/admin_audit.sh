#!/bin/sh
# hotline-admin's audit-log API against a throwaway database: 403 for a
# 一般職員, search by person, action prefix and period (Japan time) with
# paging, bad filters as 400, the CSV export (BOM, Japanese header, RFC 4180
# quoting of a cell with a comma, a quote and a newline, the formula guard,
# the file name) and its own audit row, chain verification intact and then
# broken after a row is altered behind the triggers' back, and 503 while the
# database is away.
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

as() { eval "admin_cookie=\$${1}_c admin_csrf=\$${1}_t"; }
py() { printf '%s' "$body" | python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"; }
if admin_signin boss boss-password-2026; then ok "boss signs in"; else not_ok "boss signs in" "$status $body"; fi
boss_c=$admin_cookie boss_t=$admin_csrf
if admin_signin clerk clerk-password-2026; then ok "clerk signs in"; else not_ok "clerk signs in" "$status $body"; fi
clerk_c=$admin_cookie clerk_t=$admin_csrf

# Some history: a failed sign-in, segment changes, and a row whose actor
# is hostile text (a failed sign-in records the login tried as the actor;
# here it is written directly, as the database owner may append).
admin_req POST /api/login "" "" '{"login":"boss","password":"wrong-password-0000"}'
as boss
admin_api POST /api/segments/items '{"key":"school","label":"学区,\"東\"","kind":"multi"}'
is "a segment item (history to search)" "$status" 201
admin_api POST "/api/segments/items/$(py "j['id']")/values" '{"key":"nishi","label":"西"}'
check "a hostile row" sql "$db" "INSERT INTO audit_log (actor, action, target, detail)
	VALUES (E'=HYPERLINK(\"http://x\"),a\nb', 'test.csv', '-1+1', '{\"note\": \"@x\"}')"

# --- a 一般職員 ----------------------------------------------------------------------------------
as clerk
for p in /api/audit /api/audit.csv /api/audit/verify; do
	admin_api GET "$p"
	is "一般職員: GET $p is 403" "$status $(py "j['error']")" "403 forbidden"
done
like "with a Japanese message" "$body" '"message":"この操作は管理者だけが行えます。"'

# --- search -----------------------------------------------------------------------------------------
as boss
total=$(sql "$db" "SELECT count(*) FROM audit_log")
admin_api GET /api/audit
is "GET /api/audit is 200" "$status" 200
is "newest first, all of them (fewer than 50)" "$(py "[i['id'] for i in j['items']] == sorted([i['id'] for i in j['items']], reverse=True) and len(j['items'])") $(py "j['next']")" "$total None"
is "an item's fields" "$(py "sorted(j['items'][1].keys())")" "['action', 'actor', 'at', 'detail', 'id', 'ip', 'target']"
is "the newest real row" "$(py "(j['items'][1]['actor'], j['items'][1]['action'], j['items'][1]['detail']['key'], j['items'][1]['ip'])")" \
	"('boss', 'segment.value_create', 'nishi', '127.0.0.1')"
like "at is ISO 8601 in Japan time" "$(py "j['items'][1]['at']")" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\+09:00$'
is "a row without address or target has nulls" "$(py "(j['items'][0]['ip'], j['items'][0]['target'])")" "(None, '-1+1')"

admin_api GET '/api/audit?actor=clerk'
is "by person: only clerk's rows" "$(py "sorted(set(i['actor'] for i in j['items']))") $(py "len(j['items'])")" \
	"['clerk'] $(sql "$db" "SELECT count(*) FROM audit_log WHERE actor = 'clerk'")"
admin_api GET '/api/audit?action=segment'
is "by action prefix" "$(py "[i['action'] for i in j['items']]")" "['segment.value_create', 'segment.item_create']"
admin_api GET '/api/audit?action=staff.login_failed'
is "a full action name" "$(py "[(i['actor'], i['detail']['reason']) for i in j['items']]")" "[('boss', 'password')]"
admin_api GET '/api/audit?action=seg%25'
is "an action with % is refused (no wildcards)" "$status $(py "j['error']")" "400 invalid"
admin_api GET '/api/audit?action=Staff'
is "a bad action is 400 invalid action" "$status $(py "j['field']")" "400 action"

today=$(TZ=Asia/Tokyo date +%Y-%m-%d)
tomorrow=$(TZ=Asia/Tokyo date -d tomorrow +%Y-%m-%d)
yesterday=$(TZ=Asia/Tokyo date -d yesterday +%Y-%m-%d)
admin_api GET "/api/audit?from=$today&to=$today"
is "period: today (Japan time) has every row" "$(py "len(j['items'])")" "$total"
admin_api GET "/api/audit?from=$tomorrow"
is "from tomorrow: none" "$(py "len(j['items'])")" 0
admin_api GET "/api/audit?to=$yesterday"
is "up to yesterday: none" "$(py "len(j['items'])")" 0
admin_api GET /api/audit/verify
is "verify: intact, every row counted" "$status $(py "(j['ok'], j['broken_at'], j['rows'])")" \
	"200 (True, None, $(sql "$db" "SELECT count(*) FROM audit_log"))"
check "a row of last night 23:30 Japan time (its time set behind the trigger's back)" sql "$db" "
	INSERT INTO audit_log (actor, action) VALUES ('nightowl', 'test.night');
	ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only;
	UPDATE audit_log SET at = (DATE '$yesterday' + time '23:30') AT TIME ZONE 'Asia/Tokyo' WHERE actor = 'nightowl';
	ALTER TABLE audit_log ENABLE ALWAYS TRIGGER audit_log_append_only"
admin_api GET "/api/audit?actor=nightowl&from=$yesterday&to=$yesterday"
is "yesterday's row is in yesterday (day bounds in Japan time)" "$(py "len(j['items'])")" 1
admin_api GET "/api/audit?actor=nightowl&from=$today"
is "and not in today" "$(py "len(j['items'])")" 0
for bad in "from=2026-02-30" "from=2026/11/25" "to=20261125" "from=2026-13-01"; do
	admin_api GET "/api/audit?$bad"
	is "a bad date ($bad) is 400" "$status $(py "j['error']")" "400 invalid"
done
admin_api GET "/api/audit?from=$today&to=$yesterday"
is "to before from is 400" "$status $(py "j['field']")" "400 to"
admin_api GET '/api/audit?from=2024-02-29'
is "a leap day is a date" "$status" 200

admin_api GET '/api/audit?limit=2'
is "paging: limit=2 gives 2 and a cursor" "$(py "len(j['items'])") $(py "j['next'] == j['items'][1]['id']")" "2 True"
first=$(py "[i['id'] for i in j['items']]")
admin_api GET "/api/audit?limit=2&before=$(py "j['next']")"
is "the next page continues below it" "$(py "j['items'][0]['id'] < min($first) and len(j['items']) == 2")" True
for bad in limit=0 limit=201 limit=x before=0; do
	admin_api GET "/api/audit?$bad"
	is "$bad is 400" "$status $(py "j['error']")" "400 invalid"
done

# --- CSV ---------------------------------------------------------------------------------------------
admin_api GET '/api/audit.csv'
is "GET /api/audit.csv is 200" "$status" 200
hdr() { grep -i "^$1:" "$tap_tmp/admin.h" | tr -d '\r'; }
is "text/csv in UTF-8" "$(hdr content-type)" "Content-Type: text/csv; charset=utf-8"
is "as a file named after today (Japan time)" "$(hdr content-disposition)" \
	"Content-Disposition: attachment; filename=\"audit-$(TZ=Asia/Tokyo date +%Y%m%d).csv\""
is "it starts with the UTF-8 BOM" "$(head -c 3 "$tap_tmp/admin.b" | od -An -tx1 | tr -d ' ')" efbbbf
is "then the Japanese header row" "$(head -n 1 "$tap_tmp/admin.b" | tail -c +4 | tr -d '\r')" "日時,職員,操作,対象,詳細,IPアドレス"
is "lines end in CRLF" "$(head -n 1 "$tap_tmp/admin.b" | tail -c 2 | od -An -tx1 | tr -d ' ')" 0d0a
cp "$tap_tmp/admin.b" "$tap_tmp/audit.csv"
csvpy() { python3 -c "import csv,sys; rows=list(csv.reader(open(sys.argv[1], encoding='utf-8-sig', newline=''))); print($1)" "$tap_tmp/audit.csv"; }
is "one row per audit row" "$(csvpy "len(rows) - 1")" "$(sql "$db" "SELECT count(*) FROM audit_log WHERE action <> 'audit.export'")"
is "a cell with a comma, a quote and a newline survives RFC 4180, with the = guard" \
	"$(csvpy "repr([r for r in rows if r[2] == 'test.csv'][0][1])")" "'\\'=HYPERLINK(\"http://x\"),a\\nb'"
is "the raw bytes: quoted, quotes doubled" \
	"$(grep -c "^[^,]*,\"'=HYPERLINK(\"\"http://x\"\"),a" "$tap_tmp/audit.csv")" 1
is "a target starting with - is guarded too" "$(csvpy "[r for r in rows if r[2] == 'test.csv'][0][3]")" "'-1+1"
is "detail is the JSON text" "$(csvpy "[r for r in rows if r[2] == 'segment.item_create'][0][4]")" \
	'{"key": "school", "kind": "multi", "label": "学区,\"東\"", "match_when_unset": false}'
is "columns: at, actor, action, target, detail, address" "$(csvpy "[r for r in rows if r[2] == 'segment.item_create'][0][1:4] + [r for r in rows if r[2] == 'segment.item_create'][0][5:]")" \
	"['boss', 'segment.item_create', 'segment_item:6', '127.0.0.1']"
is "the export is audited with its filters and row count" \
	"$(sql "$db" "SELECT actor || '|' || detail::text FROM audit_log WHERE action = 'audit.export'")" \
	"boss|{\"rows\": $(csvpy "len(rows) - 1"), \"format\": \"csv\"}"
admin_api GET '/api/audit.csv?actor=clerk&action=staff.login'
cp "$tap_tmp/admin.b" "$tap_tmp/audit.csv"
is "filters apply to the CSV" "$(csvpy "sorted(set((r[1], r[2]) for r in rows[1:]))")" "[('clerk', 'staff.login')]"
is "and are recorded" "$(sql "$db" "SELECT detail->>'actor' || '|' || (detail->>'action') FROM audit_log WHERE action = 'audit.export' ORDER BY id DESC LIMIT 1")" "clerk|staff.login"
admin_api GET '/api/audit.csv?from=bad'
is "a bad filter is 400, not a file" "$status $(py "j['field']")" "400 from"

# --- verify ---------------------------------------------------------------------------------------------
admin_api GET /api/audit/verify
is "verify: broken at the row whose time was altered" "$status $(py "(j['ok'], j['broken_at'], j['rows'] == $(sql "$db" "SELECT count(*) FROM audit_log"))")" \
	"200 (False, $(sql "$db" "SELECT id FROM audit_log WHERE actor = 'nightowl'"), True)"
check "tamper with row 3 as the database owner (triggers disabled)" sql "$db" "
	ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only;
	UPDATE audit_log SET actor = 'mallory' WHERE id = 3;
	ALTER TABLE audit_log ENABLE ALWAYS TRIGGER audit_log_append_only"
admin_api GET /api/audit/verify
is "verify: broken at the first altered row" "$status $(py "(j['ok'], j['broken_at'])")" "200 (False, 3)"

# --- the database goes away: 503 ----------------------------------------------------------------------------
check "cut hotline_admin off this database" sql "$db" "
	REVOKE CONNECT ON DATABASE $db FROM hotline_admin;
	SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '$db' AND usename = 'hotline_admin'"
admin_api GET /api/audit
is "GET /api/audit is 503 unavailable" "$status $(py "j['error']")" "503 unavailable"
admin_api GET /api/audit.csv
is "so is the CSV" "$status" 503
check "the database comes back" sql "$db" "GRANT CONNECT ON DATABASE $db TO hotline_admin"
admin_api GET /api/audit/verify
is "and it answers again" "$status" 200

kill "$admin_pid" 2>/dev/null
wait "$admin_pid" 2>/dev/null
unlike "no error was logged (no 500 path taken)" "$(grep 'level=error' "$log")" '.'
tap_done
