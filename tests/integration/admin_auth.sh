#!/bin/sh
# hotline-admin sign-in API against a throwaway database: wrong password,
# unknown login, lockout with back-off (the right password refused while
# locked, accepted later), no access beyond enrolment until TOTP is
# enrolled, enrolment (secret sealed, recovery codes hashed), the TOTP step
# (wrong code, replayed code, recovery code once), cookie flags, session
# fixation, CSRF (missing, wrong, another session's), idle timeout, logout,
# the audit rows and their chain, security headers, and logs without
# logins or secrets.
. "$HL_TOP/tests/lib.sh"

totp="$HL_BIN/../tests/tools/totp_code"
port=$(free_port 1)
port2=$(free_port 2)
BASE="http://127.0.0.1:$port"
KEY=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f

db=$(db_new)
conf=$(conf_for "$db" "[admin]
listen = 127.0.0.1:$port
lockout_threshold = 3
lockout_base_seconds = 2
lockout_max_seconds = 4
ip_lockout_threshold = 100")
check "migrate" ctl "$conf" migrate
echo "tamura-kouhou-2026" | ctl "$conf" admin create tamura --name "田村 広報" --department "広報課" >/dev/null 2>&1
is "admin create makes tamura" "$?" 0
echo "sato-bousai-2026!!" | ctl "$conf" admin create sato --name "佐藤 防災" >/dev/null 2>&1
is "admin create makes sato" "$?" 0

log="$tap_tmp/admin.log"
HOTLINE_ADMIN_TOTP_KEY=$KEY "$HL_BIN/hotline-admin" -c "$conf" 2>>"$log" &
apid=$!
if wait_http "$BASE/healthz"; then ok "hotline-admin listens"; else not_ok "hotline-admin listens" "$(cat "$log")"; fi

# req METHOD PATH [COOKIE] [CSRF-TOKEN] [JSON-BODY]: sets $status, $body;
# the response headers are in $tap_tmp/h.
req() {
	r_m=$1 r_p=$2 r_c=${3:-} r_t=${4:-} r_d=${5:-}
	set -- -s -X "$r_m" -o "$tap_tmp/b" -D "$tap_tmp/h" -w '%{http_code}' --max-time 10 \
		-A "hotline-test/1.0"
	[ -z "$r_c" ] || set -- "$@" -H "Cookie: hl_session=$r_c"
	[ -z "$r_t" ] || set -- "$@" -H "X-CSRF-Token: $r_t"
	[ -z "$r_d" ] || set -- "$@" -H "Content-Type: application/json" --data-binary "$r_d"
	[ -z "${XFF:-}" ] || set -- "$@" -H "X-Forwarded-For: $XFF"
	status=$(curl "$@" "${BASE}$r_p")
	body=$(cat "$tap_tmp/b")
}
cookie() { sed -n 's/^set-cookie: hl_session=\([0-9a-f]*\);.*/\1/ip' "$tap_tmp/h" | tr -d '\r'; }
header() { grep -i "^$1:" "$tap_tmp/h" | tr -d '\r'; }
token() { printf '%s' "$body" | sed -n 's/.*"csrf_token":"\([0-9a-f]*\)".*/\1/p'; }
field() { printf '%s' "$body" | sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p"; }

# --- security headers, anonymous access -----------------------------------------
req GET /healthz
like "healthz has a CSP without inline script" "$(header content-security-policy)" "default-src 'self'; frame-ancestors 'none'"
like "and X-Frame-Options DENY" "$(header x-frame-options)" "DENY"
like "and nosniff" "$(header x-content-type-options)" "nosniff"
req GET /api/me
is "/api/me without a session is 401" "$status" 401
like "with a Japanese message" "$body" '"error":"unauthenticated","message":"ログインしていないか'
like "API answers are no-store" "$(header cache-control)" "no-store"
like "and carry the CSP too" "$(header content-security-policy)" "frame-ancestors 'none'"

# --- password step ---------------------------------------------------------------------
req POST /api/login "" "" '{"login":"tamura","password":"wrong-password-123"}'
is "a wrong password is 401" "$status" 401
like "with a Japanese message" "$body" '"error":"invalid_credentials","message":"ログイン名またはパスワードが正しくありません。"'
req POST /api/login "" "" '{"login":"nobody","password":"wrong-password-123"}'
is "an unknown login gets the same 401" "$status $body" "401 {\"error\":\"invalid_credentials\",\"message\":\"ログイン名またはパスワードが正しくありません。\"}"
req POST /api/login "" "" '{"login":"tamura"}'
is "a body without password is 400" "$status" 400

planted=$(printf 'f%.0s' $(seq 64))
req POST /api/login "$planted" "" '{"login":"TAMURA","password":"tamura-kouhou-2026"}'
is "the right password signs in (login case-folded)" "$status" 200
like "and asks for TOTP enrolment" "$body" '"status":"mfa_enrolment_required"'
like "me says who, role, department and MFA state" "$body" '"login":"tamura","display_name":"田村 広報","role":"admin","department":"広報課","mfa":\{"enrolled":false,"state":"not_enrolled"\}'
setc=$(header set-cookie)
like "the cookie is HttpOnly, Secure, SameSite=Strict, Path=/" "$setc" "hl_session=[0-9a-f]{64}; Path=/; HttpOnly; Secure; SameSite=Strict"
s1=$(cookie)
t1=$(token)
unlike "fixation: the planted id is not the session" "$s1" "^f+$"
req GET /api/me "$planted"
is "and the planted id is still not signed in" "$status" 401
is "only the SHA-256 of the session id is stored" \
	"$(sql "$db" "SELECT count(*) FROM staff_sessions WHERE id_hash = sha256(decode('$s1', 'hex'))")|$(sql "$db" "SELECT count(*) FROM staff_sessions WHERE encode(id_hash, 'hex') = '$s1'")" "1|0"

req GET /api/me "$s1"
is "me with the session is 200" "$status" 200
is "and returns the same CSRF token" "$(token)" "$t1"
req GET /api/deliveries "$s1"
is "without MFA anything else is 403" "$status" 403
like "mfa_required, in Japanese" "$body" '"error":"mfa_required","message":"二要素認証 \(TOTP\) の登録が必要です'

# Rotation on every sign-in: a second sign-in with s1 drops s1.
req POST /api/login "$s1" "" '{"login":"tamura","password":"tamura-kouhou-2026"}'
s1b=$(cookie)
req GET /api/me "$s1"
is "signing in again with a session replaces it" "$status" 401
s1=$s1b
req GET /api/me "$s1"
t1=$(token)

# --- CSRF ----------------------------------------------------------------------------------
req POST /api/login "" "" '{"login":"sato","password":"sato-bousai-2026!!"}'
s2=$(cookie)
t2=$(token)
req POST /api/me/totp/begin "$s1"
is "a state change without X-CSRF-Token is 403" "$status" 403
like "csrf, in Japanese" "$body" '"error":"csrf","message":"不正なリクエストです'
req POST /api/me/totp/begin "$s1" "$(printf '0%.0s' $(seq 64))"
is "with a wrong token 403" "$status" 403
req POST /api/me/totp/begin "$s1" "$t2"
is "with another session's token 403" "$status" 403
req POST /api/logout "$s1"
is "logout without the token is 403 too" "$status" 403

# --- TOTP enrolment ------------------------------------------------------------------------
req POST /api/me/totp/confirm "$s1" "$t1" '{"code":"123456"}'
is "confirm before begin is refused" "$status" 409
req POST /api/me/totp/begin "$s1" "$t1"
is "begin enrolment is 200" "$status" 200
secret=$(field secret)
like "it returns a base32 secret" "$secret" "^[A-Z2-7]{32}$"
like "and the otpauth URI" "$(field otpauth_uri)" "^otpauth://totp/hotline:tamura\?secret=$secret&issuer=hotline&algorithm=SHA1&digits=6&period=30$"
# The QR code of that URI for the enrolment screen: an SVG of one path on a
# white square (a QR version's side, 21..177 modules, plus the quiet zone),
# nothing else in it (no script, no text, no style).
is "and the URI as a QR code in SVG" "$(printf '%s' "$body" | python3 -c '
import json, sys, xml.etree.ElementTree as ET
svg = ET.fromstring(json.load(sys.stdin)["qr_svg"])
ns = "{http://www.w3.org/2000/svg}"
tags = sorted({e.tag.replace(ns, "") for e in svg.iter()})
side = int(svg.get("viewBox").split()[2]) - 8
print(tags, 21 <= side <= 177 and (side - 21) % 4 == 0, len(svg.findall(ns + "path")))')" "['path', 'rect', 'svg'] True 1"
is "the secret is stored sealed (48 bytes, not the plain secret)" \
	"$(sql "$db" "SELECT octet_length(totp_secret) || '|' || totp_enabled FROM staff WHERE login = 'tamura'")" "48|false"
wrong=$("$totp" "$secret" 5)
req POST /api/me/totp/confirm "$s1" "$t1" "{\"code\":\"$wrong\"}"
is "a wrong code does not confirm" "$status" 400
like "and says so in Japanese" "$body" '"error":"invalid_code","message":"確認コードが正しくありません'
code0=$("$totp" "$secret")
req POST /api/me/totp/confirm "$s1" "$t1" "{\"code\":\"$code0\"}"
is "the right code confirms" "$status" 200
codes=$(printf '%s' "$body" | grep -oE '[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}')
is "10 recovery codes are shown" "$(printf '%s\n' "$codes" | grep -c .)" 10
rc1=$(printf '%s\n' "$codes" | sed -n 1p)
is "they are stored hashed" \
	"$(sql "$db" "SELECT count(*) FILTER (WHERE code_hash LIKE 'pbkdf2-sha256\$%') || '|' || count(*) FILTER (WHERE code_hash LIKE '%$(printf '%s' "$rc1" | tr -d -)%') FROM staff_recovery_codes")" "10|0"
is "the account is enrolled" "$(sql "$db" "SELECT totp_enabled FROM staff WHERE login = 'tamura'")" "t"
req GET /api/me "$s1"
like "me shows MFA verified" "$body" '"mfa":\{"enrolled":true,"state":"verified"\}'
req GET /api/deliveries "$s1"
is "after enrolment the gate lets requests through to the endpoint" "$status" 200
req GET /api/no-such-endpoint "$s1"
is "and an unknown path behind the gate is 404" "$status" 404

# --- logout --------------------------------------------------------------------------------
req POST /api/logout "$s1" "$t1"
is "logout is 200" "$status" 200
like "and clears the cookie" "$(header set-cookie)" "hl_session=; Path=/; Max-Age=0"
req GET /api/me "$s1"
is "the session no longer works" "$status" 401

# --- TOTP step -------------------------------------------------------------------------------
req POST /api/login "" "" '{"login":"tamura","password":"tamura-kouhou-2026"}'
is "password accepted with TOTP enrolled" "$status" 200
like "asks for the code" "$body" '"status":"totp_required"'
is "the password-only session is short-lived (10 min)" \
	"$(sql "$db" "SELECT expires_at - created_at FROM staff_sessions WHERE id_hash = sha256(decode('$(cookie)', 'hex'))")" "00:10:00"
p1=$(cookie)
pt=$(token)
req GET /api/deliveries "$p1"
is "a password-only session gets nothing else" "$status" 401
like "totp_required in Japanese" "$body" '"error":"totp_required","message":"認証アプリの確認コードを入力してください。"'
req POST /api/login/totp "$p1" "" "{\"code\":\"$wrong\"}"
is "the code step needs the CSRF token too" "$status" 403
req POST /api/login/totp "$p1" "$pt" "{\"code\":\"$wrong\"}"
is "a wrong code is 401" "$status" 401
like "in Japanese" "$body" '"error":"invalid_code","message":"確認コードが正しくないか'
req POST /api/login/totp "$p1" "$pt" "{\"code\":\"$code0\"}"
is "the code used at enrolment cannot be replayed" "$status" 401
code1=$("$totp" "$secret" 1)
req POST /api/login/totp "$p1" "$pt" "{\"code\":\"$code1\"}"
is "the next code signs in" "$status" 200
like "MFA verified" "$body" '"status":"ok"'
s3=$(cookie)
t3=$(token)
unlike "a new session id after the second step" "$s3" "^$p1$"
req GET /api/me "$p1"
is "the password-only session is gone" "$status" 401
req GET /api/deliveries "$s3"
is "the full session passes the gate" "$status" 200
is "a full session lasts session_max_age at most (12 h)" \
	"$(sql "$db" "SELECT expires_at - created_at FROM staff_sessions WHERE id_hash = sha256(decode('$s3', 'hex'))")" "12:00:00"
sql "$db" "UPDATE staff_sessions SET created_at = now() - interval '13 hours', expires_at = now() - interval '1 second' WHERE id_hash = sha256(decode('$s3', 'hex'))"
req GET /api/me "$s3"
is "past its absolute timeout a session is 401" "$status" 401
req POST /api/logout "$s3" "$t3"

req POST /api/login "" "" '{"login":"tamura","password":"tamura-kouhou-2026"}'
p2=$(cookie)
pt=$(token)
req POST /api/login/totp "$p2" "$pt" "{\"code\":\"$code1\"}"
is "a replayed code is refused" "$status" 401
req POST /api/login/totp "$p2" "$pt" "{\"code\":\"$(printf '%s' "$rc1" | tr 'A-Z' 'a-z')\"}"
is "a recovery code signs in (any case)" "$status" 200
s4=$(cookie)
t4=$(token)
req POST /api/logout "$s4" "$t4"
req POST /api/login "" "" '{"login":"tamura","password":"tamura-kouhou-2026"}'
p3=$(cookie)
pt=$(token)
req POST /api/login/totp "$p3" "$pt" "{\"code\":\"$rc1\"}"
is "a recovery code works only once" "$status" 401
is "it is marked used" "$(sql "$db" "SELECT count(*) FROM staff_recovery_codes WHERE used_at IS NOT NULL")" 1

XFF="198.51.100.66" req POST /api/login "" "" '{"login":"spoofed","password":"whatever-password"}'
is "X-Forwarded-For is ignored unless configured" \
	"$(sql "$db" "SELECT host(ip) FROM audit_log WHERE actor = 'spoofed'")" "127.0.0.1"

# --- lockout ---------------------------------------------------------------------------------
for i in 1 2 3; do
	req POST /api/login "" "" '{"login":"sato","password":"not-the-password"}'
done
is "the third failure is still a plain 401" "$status" 401
req POST /api/login "" "" '{"login":"sato","password":"sato-bousai-2026!!"}'
is "while locked, the right password is refused (429)" "$status" 429
like "with a Japanese message" "$body" '"error":"locked","message":"ログインの失敗が続いたため'
like "and Retry-After" "$(header retry-after)" "^Retry-After: [0-9]+$"
is "the lockout is recorded on the account" \
	"$(sql "$db" "SELECT failed_logins || '|' || (locked_until > now()) FROM staff WHERE login = 'sato'")" "3|true"
i=0
while [ $i -lt 30 ]; do
	req POST /api/login "" "" '{"login":"sato","password":"sato-bousai-2026!!"}'
	[ "$status" = 429 ] || break
	sleep 0.5
	i=$((i + 1))
done
is "after the lockout the right password signs in" "$status" 200
is "and the failure count is reset" "$(sql "$db" "SELECT failed_logins FROM staff WHERE login = 'sato'")" 0

# --- idle timeout ----------------------------------------------------------------------------
conf2=$(conf_for "$db" "[admin]
listen = 127.0.0.1:$port2
session_idle_timeout = 2
forwarded_for = yes
ip_lockout_threshold = 2")
"$HL_BIN/hotline-admin" -c "$conf2" 2>>"$tap_tmp/admin2.log" &
apid2=$!
wait_http "http://127.0.0.1:$port2/healthz"
BASE="http://127.0.0.1:$port2"
XFF="203.0.113.9, 198.51.100.7" req POST /api/login "" "" '{"login":"sato","password":"sato-bousai-2026!!"}'
s5=$(cookie)
is "behind the proxy the address is the proxy's X-Forwarded-For entry" \
	"$(sql "$db" "SELECT host(ip) FROM audit_log WHERE action = 'staff.login' ORDER BY id DESC LIMIT 1")|$(sql "$db" "SELECT host(ip) FROM staff_sessions ORDER BY created_at DESC LIMIT 1")" \
	"198.51.100.7|198.51.100.7"
req GET /api/me "$s5"
is "a fresh session works" "$status" 200
sleep 3
req GET /api/me "$s5"
is "after the idle timeout it is 401" "$status" 401
XFF=198.51.100.99 req POST /api/login "" "" '{"login":"ghost1","password":"wrong-password-1"}'
XFF=198.51.100.99 req POST /api/login "" "" '{"login":"ghost2","password":"wrong-password-2"}'
XFF=198.51.100.99 req POST /api/login "" "" '{"login":"sato","password":"sato-bousai-2026!!"}'
is "an address with too many failures is locked, even for the right password" "$status" 429
is "the count is per address in the database" \
	"$(sql "$db" "SELECT failures || '|' || (locked_until > now()) FROM staff_login_failures WHERE ip = '198.51.100.99'")" "2|true"
XFF=198.51.100.100 req POST /api/login "" "" '{"login":"sato","password":"sato-bousai-2026!!"}'
is "another address still signs in" "$status" 200
s6=$(cookie)
t6=$(token)
XFF=198.51.100.100 req POST /api/me/totp/begin "$s6" "$t6"
is "without a sealing key enrolment is unavailable" "$status $(field error)" "503 unavailable"
sql "$db" "UPDATE staff SET disabled_at = now() WHERE login = 'sato'"
XFF=198.51.100.100 req GET /api/me "$s6"
is "a disabled account's session stops working" "$status" 401
XFF=198.51.100.100 req POST /api/login "" "" '{"login":"sato","password":"sato-bousai-2026!!"}'
is "and it cannot sign in" "$status $(field error)" "401 invalid_credentials"
kill "$apid2"
wait "$apid2"
BASE="http://127.0.0.1:$port"

# --- audit -------------------------------------------------------------------------------------
actions=$(sql "$db" "SELECT string_agg(action, ',' ORDER BY action COLLATE \"C\") FROM (SELECT DISTINCT action FROM audit_log) a")
is "sign-in events are audited" "$actions" \
	"staff.create,staff.lockout,staff.login,staff.login_failed,staff.login_password,staff.login_refused,staff.logout,staff.totp_enroll"
is "with who, from where and the User-Agent" \
	"$(sql "$db" "SELECT actor || '|' || actor_staff_id || '|' || target || '|' || host(ip) || '|' || user_agent || '|' || (detail->>'factor') FROM audit_log WHERE action = 'staff.login' AND detail->>'factor' = 'recovery'")" \
	"tamura|1|staff:1|127.0.0.1|hotline-test/1.0|recovery"
is "a failed sign-in to an unknown login names what was tried" \
	"$(sql "$db" "SELECT actor || '|' || coalesce(actor_staff_id::text, '-') || '|' || (detail->>'reason') FROM audit_log WHERE action = 'staff.login_failed' AND actor = 'nobody'")" "nobody|-|unknown"
unlike "no code or password in the audit details" "$(sql "$db" "SELECT string_agg(detail::text, ' ') FROM audit_log")" "tamura-kouhou|sato-bousai|$code1|$secret"
is "the audit chain verifies" "$(sql "$db" "SELECT coalesce(audit_verify()::text, 'intact')")" "intact"
rows=$(sql "$db" "SELECT count(*) FROM audit_log")
out=$(ctl "$conf" audit verify 2>&1)
is "hotlinectl audit verify recomputes it" "$?|$out" "0|audit log intact: $rows rows"
# A superuser edits a row behind the triggers, then hides it from the
# database's own check: the recomputation still catches it.
sql "$db" "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only;
	UPDATE audit_log SET detail = '{\"reason\":\"edited\"}' WHERE id = 3;
	ALTER TABLE audit_log ENABLE ALWAYS TRIGGER audit_log_append_only"
out=$(ctl "$conf" audit verify 2>&1)
is "an altered row is found" "$?|$out" "1|audit log BROKEN at id 3: hash does not match the row's contents"
sql "$db" "CREATE OR REPLACE FUNCTION audit_verify() RETURNS bigint LANGUAGE sql AS 'SELECT NULL::bigint'"
out=$(ctl "$conf" audit verify 2>&1)
is "even when audit_verify() is replaced" "$?|$out" "1|audit log BROKEN at id 3: hash does not match the row's contents"

# --- [admin] allow_from --------------------------------------------------------------------------
unset XFF
port3=$(free_port 3)
conf_allow() {	# conf_allow ALLOW-FROM [FORWARDED-FOR]
	conf_for "$db" "[admin]
listen = 127.0.0.1:$port3
allow_from = $1
forwarded_for = ${2:-no}"
}
out=$("$HL_BIN/hotline-admin" -t -c "$(conf_allow "10.0.0.0/8, intranet")" 2>&1)
is "a bad allow_from is a configuration error (78)" "$?" 78
like "naming the entry" "$out" 'allow_from: "intranet" is not an address'
alog="$tap_tmp/allow.log"
BASE3="http://127.0.0.1:$port3"
HOTLINE_ADMIN_TOTP_KEY=$KEY "$HL_BIN/hotline-admin" -c "$(conf_allow "10.20.0.0/16, fd00::/8")" 2>>"$alog" &
alpid=$!
wait_http "$BASE3/healthz"
BASE_SAVED=$BASE
BASE=$BASE3
req GET /healthz
is "outside allow_from: /healthz still answers" "$status" 200
req GET /api/me "$s1"
is "outside allow_from: the API is 403" "$status" 403
like "with a Japanese message" "$body" '"error":"address_not_allowed","message":"このネットワークからは管理画面を利用できません。'
req POST /api/login "" "" '{"login":"tamura","password":"tamura-kouhou-2026"}'
is "sign-in too" "$status" 403
req GET /
is "and the UI" "$status" 403
kill "$alpid"
wait "$alpid"
HOTLINE_ADMIN_TOTP_KEY=$KEY "$HL_BIN/hotline-admin" -c "$(conf_allow "10.20.0.0/16, 127.0.0.1" yes)" 2>>"$alog" &
alpid=$!
wait_http "$BASE3/healthz"
req POST /api/login "" "" '{"login":"nobody","password":"wrong-password-123"}'
is "inside allow_from the API answers" "$status" 401
XFF="10.20.3.4" req POST /api/login "" "" '{"login":"nobody","password":"wrong-password-123"}'
is "behind the proxy, an allowed client address passes" "$status" 401
XFF="203.0.113.7" req POST /api/login "" "" '{"login":"nobody","password":"wrong-password-123"}'
is "a client address outside the list is refused" "$status" 403
XFF="10.20.3.4, 203.0.113.7" req GET /api/me
is "the proxy's entry (the last) is the one checked" "$status" 403
kill "$alpid"
wait "$alpid"
like "refusals are logged without the address" "$(cat "$alog")" 'request from an address outside \[admin\] allow_from refused'
BASE=$BASE_SAVED
unset XFF

# --- logs --------------------------------------------------------------------------------------
kill "$apid"
wait "$apid"
is "hotline-admin stops cleanly" "$?" 0
like "sign-ins are logged by staff id" "$(cat "$log")" "msg=\"?signed in\"? staff=1 mfa=totp"
unlike "logs hold no login, password, session id or code" "$(cat "$log" "$tap_tmp/admin2.log")" "tamura|sato|kouhou-2026|bousai-2026|$s1|$s3|$code1|$secret"

tap_done
