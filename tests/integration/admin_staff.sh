#!/bin/sh
# hotline-admin's staff API against a throwaway database: 403 for a 一般職員
# on every 管理者-only endpoint (their own role and scope included), the
# account list (35 accounts with departments and scopes), creating an
# account (validation, a taken login, a new department made on the fly),
# signing in with it, changing name, department, role and scope, the rules
# on self-demotion and the last 管理者, disabling (sessions end at once) and
# enabling, password reset by a 管理者 and the own password change, the
# audit rows (never a password), and 503 while the database is away.
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
signin() {	# signin LOGIN PASSWORD: sign in and keep the session as LOGIN's
	if admin_signin "$1" "$2"; then ok "$1 signs in"; else not_ok "$1 signs in" "$status $body"; fi
	s_v=$(printf '%s' "$1" | tr -c 'a-z0-9\n' _)
	eval "${s_v}_c=\$admin_cookie ${s_v}_t=\$admin_csrf"
}
py() { printf '%s' "$body" | python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"; }
sid() { sql "$db" "SELECT id FROM staff WHERE login = '$1'"; }
vid() { sql "$db" "SELECT v.id FROM segment_values v JOIN segment_items i ON i.id = v.item_id WHERE i.key = '$1' AND v.key = '$2'"; }
# A sign-in attempt's status only (no session kept).
try_login() {
	admin_req POST /api/login "" "" "{\"login\":\"$1\",\"password\":\"$2\"}"
	echo "$status"
}

signin boss boss-password-2026
signin clerk clerk-password-2026
boss=$(sid boss)
clerk=$(sid clerk)
kura=$(vid region kurabuchi)
haruna=$(vid region haruna)

# --- a 一般職員 ------------------------------------------------------------------------------------
as clerk
admin_api GET /api/departments
is "a 一般職員 may list departments" "$status $(py "[d['name'] for d in j['items']]")" "200 ['広報課', '防災課']"
admin_api GET /api/staff
is "一般職員: GET /api/staff is 403" "$status $(py "j['error']")" "403 forbidden"
like "with a Japanese message" "$body" '"message":"この操作は管理者だけが行えます。"'
admin_api POST /api/staff '{"login":"evil","display_name":"x","role":"admin","password":"evil-password-2026"}'
is "一般職員: POST /api/staff is 403" "$status" 403
admin_api PATCH "/api/staff/$clerk" '{"role":"admin"}'
is "一般職員: making themself 管理者 is 403" "$status" 403
admin_api PATCH "/api/staff/$clerk" "{\"scope\":[$kura,$haruna]}"
is "一般職員: widening their own scope is 403" "$status" 403
admin_api PATCH "/api/staff/$boss" '{"disabled":true}'
is "一般職員: disabling a 管理者 is 403" "$status" 403
is "nothing changed" "$(sql "$db" "SELECT role || '|' || (SELECT count(*) FROM staff_segment_scope) || '|' || (SELECT count(*) FROM staff WHERE disabled_at IS NOT NULL) || '|' || (SELECT count(*) FROM staff) FROM staff WHERE login = 'clerk'")" "staff|0|0|2"

# --- the list ---------------------------------------------------------------------------------------
check "33 more accounts by SQL, with scopes" sql "$db" "
	INSERT INTO departments (name) VALUES ('子育て支援課'), ('市民課');
	INSERT INTO staff (login, display_name, department_id, role, password_hash)
	SELECT 'user' || lpad(g::text, 2, '0'), '職員' || g,
	       (SELECT id FROM departments WHERE name = CASE WHEN g % 2 = 0 THEN '市民課' ELSE '子育て支援課' END),
	       'staff', 'pbkdf2-sha256\$600000\$AAAAAAAAAAAAAAAAAAAAAA==\$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='
	FROM generate_series(1, 33) g;
	INSERT INTO staff_segment_scope (staff_id, value_id)
	SELECT s.id, v.id FROM staff s, segment_values v
	WHERE s.login LIKE 'user%' AND v.id IN ($kura, $haruna)"
as boss
admin_api GET /api/staff
is "GET /api/staff lists all 35 accounts" "$status $(py "len(j['items'])") $(py "j['next']")" "200 35 None"
is "ordered by department, then login" "$(py "[a['login'] for a in j['items']][:3]")" "['user01', 'user03', 'user05']"
is "an account's fields" "$(py "sorted(j['items'][0].keys())")" \
	"['department', 'disabled', 'display_name', 'id', 'last_login_at', 'locked', 'login', 'mfa_enrolled', 'role', 'scope']"
is "boss as listed" "$(py "[(a['role'], a['department'], a['mfa_enrolled'], a['disabled'], a['locked'], a['scope']) for a in j['items'] if a['login'] == 'boss'][0]")" \
	"('admin', '広報課', True, False, False, [])"
like "last sign-in in Japan time" "$(py "[a['last_login_at'] for a in j['items'] if a['login'] == 'boss'][0]")" '^[0-9-]{10}T[0-9:]{8}\+09:00$'
is "each account's scope" "$(py "[a['scope'] for a in j['items'] if a['login'] == 'user07'][0]")" "[$haruna, $kura]"
unlike "no password hash or TOTP secret in the answer" "$body" 'pbkdf2|totp_secret|password'

# --- create ------------------------------------------------------------------------------------------
admin_api POST /api/staff "{\"login\":\"Yamada.T\",\"display_name\":\"山田 太郎\",\"department\":\"福祉課\",\"role\":\"staff\",\"password\":\"yamada-password-2026\",\"scope\":[$kura]}"
is "create an account: 201" "$status" 201
yamada=$(py "j['id']")
is "login folded to lower case, new department, scope" \
	"$(py "(j['login'], j['display_name'], j['department'], j['role'], j['mfa_enrolled'], j['scope'])")" \
	"('yamada.t', '山田 太郎', '福祉課', 'staff', False, [$kura])"
is "the password is stored as PBKDF2, 600,000 iterations" "$(sql "$db" "SELECT split_part(password_hash, '\$', 1) || '\$' || split_part(password_hash, '\$', 2) FROM staff WHERE id = $yamada")" 'pbkdf2-sha256$600000'
admin_api GET /api/departments
is "the new department is listed" "$(py "'福祉課' in [d['name'] for d in j['items']]")" True
admin_api POST /api/staff '{"login":"yamada.t","display_name":"x","role":"staff","password":"another-password-2026"}'
is "a taken login is 409" "$status $(py "j['error']")" "409 conflict"
admin_api POST /api/staff '{"login":"suzuki","display_name":"鈴木","role":"staff","password":"short-pw"}'
is "a short password is 400 invalid password" "$status $(py "j['field']")" "400 password"
like "saying 12 characters" "$body" 'パスワードは12文字以上にしてください。'
admin_api POST /api/staff '{"login":"suzuki","display_name":"鈴木","role":"staff","password":"aaaaaaaaaaaaaaaa"}'
is "one repeated character is refused" "$status $(py "j['field']")" "400 password"
admin_api POST /api/staff '{"login":"a b","display_name":"鈴木","role":"staff","password":"suzuki-password-2026"}'
is "a bad login is 400" "$status $(py "j['field']")" "400 login"
admin_api POST /api/staff '{"login":"suzuki","display_name":"鈴木","role":"root","password":"suzuki-password-2026"}'
is "an unknown role is 400" "$status $(py "j['field']")" "400 role"
admin_api POST /api/staff '{"login":"suzuki","role":"staff","password":"suzuki-password-2026"}'
is "a missing display name is 400" "$status $(py "j['field']")" "400 display_name"
admin_api POST /api/staff '{"login":"suzuki","display_name":"鈴木","role":"staff","password":"suzuki-password-2026","scope":[999999]}'
is "an unknown scope value is 400" "$status $(py "j['field']")" "400 scope"
admin_api POST /api/staff '{"login":"suzuki","display_name":"鈴木","role":"staff","password":"suzuki-password-2026","scope":"all"}'
is "a scope that is not a list is 400" "$status $(py "j['field']")" "400 scope"
is "no account was made by the refused requests" "$(sql "$db" "SELECT count(*) FROM staff WHERE login = 'suzuki'")" 0
xss='<img src=x onerror=alert(1)>'
admin_api POST /api/staff "{\"login\":\"kanri2\",\"display_name\":\"$xss\",\"department\":\"\",\"role\":\"admin\",\"password\":\"kanri2-password-2026\"}"
is "a second 管理者 without a department" "$status $(py "(j['role'], j['department'])")" "201 ('admin', None)"
is "the name stored verbatim" "$(py "j['display_name']")" "$xss"
kanri2=$(py "j['id']")

signin yamada.t yamada-password-2026
as yamada_t
admin_api GET /api/me
is "the new account is a 一般職員" "$(py "(j['role'], j['department'])")" "('staff', '福祉課')"
admin_api GET /api/segments
is "who may target their scope" "$(py "[v['key'] for v in j['items'][0]['values'] if v['in_scope']]")" "['kurabuchi']"
yamada_old_c=$admin_cookie

# --- update --------------------------------------------------------------------------------------------
as boss
admin_api PATCH "/api/staff/$yamada" '{"display_name":"山田 花子","department":"市民課"}'
is "rename, move to an existing department" "$status $(py "(j['display_name'], j['department'])")" "200 ('山田 花子', '市民課')"
admin_api PATCH "/api/staff/$yamada" "{\"scope\":[$kura,$haruna]}"
is "widen the scope" "$status $(py "j['scope']")" "200 [$haruna, $kura]"
as yamada_t
admin_api GET /api/segments
is "the 一般職員 sees the new scope at once" "$(py "[v['key'] for v in j['items'][0]['values'] if v['in_scope']]")" "['kurabuchi', 'haruna']"
as boss
admin_api PATCH "/api/staff/$yamada" '{"scope":[]}'
is "an empty scope" "$status $(py "j['scope']")" "200 []"
admin_api PATCH "/api/staff/$yamada" '{"login":"other"}'
is "a login cannot change" "$status $(py "j['field']")" "400 login"
admin_api PATCH "/api/staff/$yamada" '{}'
is "an empty change is 400" "$status" 400
admin_api PATCH /api/staff/999999 '{"display_name":"x"}'
is "an unknown account is 404" "$status $(py "j['error']")" "404 not_found"
admin_api PATCH "/api/staff/$yamada" '{"disabled":"no"}'
is "disabled must be a boolean" "$status $(py "j['field']")" "400 disabled"

# --- self-demotion, the last 管理者 -----------------------------------------------------------------------
check "kanri2 disabled by SQL: boss is the only 管理者" sql "$db" "UPDATE staff SET disabled_at = now() WHERE id = $kanri2"
admin_api PATCH "/api/staff/$boss" '{"role":"staff"}'
is "the last 管理者 cannot be demoted: 409" "$status $(py "j['error']")" "409 conflict"
like "saying so" "$body" '最後の管理者は'
admin_api PATCH "/api/staff/$boss" '{"disabled":true}'
is "nor disabled" "$status" 409
admin_api PATCH "/api/staff/$kanri2" '{"disabled":false}'
is "enable kanri2 again" "$status $(py "j['disabled']")" "200 False"
admin_api PATCH "/api/staff/$boss" '{"role":"staff"}'
is "with another 管理者, demoting oneself is still 409" "$status $(py "j['error']")" "409 conflict"
like "saying why" "$body" '自分自身を一般職員に変更することはできません'
admin_api PATCH "/api/staff/$boss" '{"disabled":true}'
is "and so is disabling oneself" "$status" 409
like "saying why" "$body" '自分自身を無効にすることはできません'
is "boss is still an enabled 管理者" "$(sql "$db" "SELECT role || '|' || (disabled_at IS NULL) FROM staff WHERE id = $boss")" "admin|true"
admin_api PATCH "/api/staff/$boss" '{"display_name":"上司"}'
is "a 管理者 may rename themself" "$status" 200
admin_api PATCH "/api/staff/$kanri2" '{"role":"staff"}'
is "demote another 管理者" "$status $(py "j['role']")" "200 staff"
admin_api PATCH "/api/staff/$kanri2" '{"role":"admin"}'
is "and promote back" "$status $(py "j['role']")" "200 admin"

# --- disable, enable --------------------------------------------------------------------------------
admin_api PATCH "/api/staff/$yamada" '{"disabled":true}'
is "disable an account" "$status $(py "j['disabled']")" "200 True"
is "its sessions are deleted" "$(sql "$db" "SELECT count(*) FROM staff_sessions WHERE staff_id = $yamada")" 0
admin_req GET /api/me "$yamada_old_c"
is "its session stops working at once" "$status" 401
is "it cannot sign in" "$(try_login yamada.t yamada-password-2026)" 401
admin_api PATCH "/api/staff/$yamada" '{"disabled":false}'
is "enable it again" "$status $(py "j['disabled']")" "200 False"
is "it signs in again" "$(try_login yamada.t yamada-password-2026)" 200

# --- password reset by a 管理者 ------------------------------------------------------------------------
signin yamada.t yamada-password-2026
yamada_old_c=$yamada_t_c
as boss
check "yamada locked out (by SQL)" sql "$db" "UPDATE staff SET failed_logins = 7, locked_until = now() + interval '1 hour' WHERE id = $yamada"
admin_api GET /api/staff
is "the list says locked" "$(py "[a['locked'] for a in j['items'] if a['login'] == 'yamada.t'][0]")" True
admin_api PATCH "/api/staff/$yamada" '{"password":"short"}'
is "a reset to a weak password is 400" "$status $(py "j['field']")" "400 password"
admin_api PATCH "/api/staff/$yamada" '{"password":"reset-by-boss-2026"}'
is "reset the password" "$status $(py "j['locked']")" "200 False"
admin_req GET /api/me "$yamada_old_c"
is "the account's sessions end" "$status" 401
is "the old password no longer works" "$(try_login yamada.t yamada-password-2026)" 401
is "the new one does" "$(try_login yamada.t reset-by-boss-2026)" 200
admin_api PATCH "/api/staff/$boss" '{"password":"boss-new-password-2026"}'
is "a 管理者 cannot reset their own password (needs the current one)" "$status $(py "j['field']")" "400 password"

# --- own password ----------------------------------------------------------------------------------------
signin yamada.t reset-by-boss-2026
as yamada_t
admin_api POST /api/me/password '{"current":"wrong-password-0000","new":"yamada-own-password-2026"}'
is "a wrong current password is 400 invalid current" "$status $(py "j['field']")" "400 current"
like "in Japanese" "$body" '現在のパスワードが正しくありません。'
is "it counts as a failed sign-in, audited" \
	"$(sql "$db" "SELECT failed_logins FROM staff WHERE id = $yamada")|$(sql "$db" "SELECT count(*) FROM audit_log WHERE action = 'staff.password_change_failed' AND actor = 'yamada.t'")" "1|1"
admin_api POST /api/me/password '{"current":"reset-by-boss-2026","new":"too-short"}'
is "a short new password is 400 invalid new" "$status $(py "j['field']")" "400 new"
admin_api POST /api/me/password '{"current":"reset-by-boss-2026","new":"reset-by-boss-2026"}'
is "the same password again is refused" "$status $(py "j['field']")" "400 new"
admin_api POST /api/me/password '{"current":"reset-by-boss-2026","new":"yamada-own-password-2026"}'
is "change the own password" "$status $(py "j['status']")" "200 ok"
admin_api GET /api/me
is "the session goes on" "$status" 200
is "the old password no longer works" "$(try_login yamada.t reset-by-boss-2026)" 401
is "the new one does" "$(try_login yamada.t yamada-own-password-2026)" 200
check "four failures so far (by SQL)" sql "$db" "UPDATE staff SET failed_logins = 4 WHERE id = $yamada"
admin_api POST /api/me/password '{"current":"guess-number-five","new":"yamada-guess-password-2026"}'
is "the fifth wrong current password is refused" "$status" 400
admin_api POST /api/me/password '{"current":"yamada-own-password-2026","new":"yamada-next-password-2026"}'
is "then the account is locked: even the right one is 429" "$status $(py "j['error']")" "429 locked"
like "with Retry-After" "$(grep -i '^retry-after:' "$tap_tmp/admin.h")" '[0-9]+'
check "unlock (by SQL)" sql "$db" "UPDATE staff SET failed_logins = 0, locked_until = NULL WHERE id = $yamada"
admin_api PATCH "/api/staff/$yamada" '{"password":"yamada-sneaky-password-2026"}'
is "a 一般職員 cannot reset through PATCH" "$status" 403

# --- the audit trail ----------------------------------------------------------------------------------------
is "staff changes were audited, one row per kind" \
	"$(sql "$db" "SELECT string_agg(action || ':' || n, ',' ORDER BY action) FROM (SELECT action, count(*) n FROM audit_log WHERE action IN ('staff.create', 'staff.update', 'staff.scope_change', 'staff.disable', 'staff.password_reset', 'staff.password_change') AND actor <> 'hotlinectl' GROUP BY action) a")" \
	"staff.create:2,staff.disable:1,staff.password_change:1,staff.password_reset:1,staff.scope_change:3,staff.update:6"
is "a scope change says before and after" \
	"$(sql "$db" "SELECT (detail->'before')::text || '>' || (detail->'after')::text || '|' || target FROM audit_log WHERE action = 'staff.scope_change' ORDER BY id OFFSET 1 LIMIT 1")" \
	"[$kura]>[$haruna, $kura]|staff:$yamada"
is "an update says what changed" \
	"$(sql "$db" "SELECT detail::text FROM audit_log WHERE action = 'staff.update' ORDER BY id LIMIT 1")" \
	'{"after": {"department": "市民課", "display_name": "山田 花子"}, "login": "yamada.t", "before": {"department": "福祉課", "display_name": "山田 太郎"}}'
is "the own change is by the account itself" "$(sql "$db" "SELECT actor || '|' || target FROM audit_log WHERE action = 'staff.password_change'")" "yamada.t|staff:$yamada"
is "no password in any audit row" \
	"$(sql "$db" "SELECT count(*) FROM audit_log WHERE detail::text ~ '(password-2026|reset-by-boss|pbkdf2)'")" 0
is "refused requests wrote no rows" "$(sql "$db" "SELECT count(*) FROM audit_log WHERE actor = 'clerk' AND action LIKE 'staff.%' AND action NOT IN ('staff.login', 'staff.totp_enroll')")" 0

# --- the database goes away: 503 ------------------------------------------------------------------------------
as boss
check "cut hotline_admin off this database" sql "$db" "
	REVOKE CONNECT ON DATABASE $db FROM hotline_admin;
	SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '$db' AND usename = 'hotline_admin'"
admin_api GET /api/staff
is "GET /api/staff is 503 unavailable" "$status $(py "j['error']")" "503 unavailable"
check "the database comes back" sql "$db" "GRANT CONNECT ON DATABASE $db TO hotline_admin"
admin_api GET /api/staff
is "and it answers again" "$status" 200

kill "$admin_pid" 2>/dev/null
wait "$admin_pid" 2>/dev/null
unlike "no error was logged (no 500 path taken)" "$(grep 'level=error' "$log")" '.'
unlike "no password or name in the log" "$(cat "$log")" 'password-2026|reset-by-boss|山田'
tap_done
