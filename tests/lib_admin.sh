# Helpers for suites that talk to hotline-admin's API as signed-in staff.
# Source after tests/lib.sh.  The suite sets ADMIN_BASE (http://127.0.0.1:PORT),
# ADMIN_DB (the throwaway database hotline-admin uses) and ADMIN_CONF (its config).
#
#   admin_start CONF LOG         start hotline-admin (test TOTP key), wait for it
#   admin_make LOGIN PASSWORD ROLE [DEPARTMENT]
#                                an account (role admin or staff), made with
#                                hotlinectl admin create, the role then set by SQL
#   admin_signin LOGIN PASSWORD  sign in, enrolling TOTP on first use (call it
#                                directly, not through check: a subshell
#                                would lose the session); sets
#                                admin_cookie and admin_csrf (the session)
#   admin_api METHOD PATH [JSON] a request in that session: sets status, body;
#                                headers in $tap_tmp/admin.h
#   jget JSON JQ-PATH            a value out of a JSON text (python3), e.g.
#                                jget "$body" '["items"][0]["id"]'
ADMIN_TOTP_KEY=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f

admin_start() {	# admin_start CONF LOG
	HOTLINE_ADMIN_TOTP_KEY=$ADMIN_TOTP_KEY "$HL_BIN/hotline-admin" -c "$1" 2>>"$2" &
	admin_pid=$!
	wait_http "$ADMIN_BASE/healthz"
}

admin_make() {	# admin_make LOGIN PASSWORD ROLE [DEPARTMENT]
	if [ -n "${4:-}" ]; then
		printf '%s\n' "$2" | "$HL_BIN/hotlinectl" -c "$ADMIN_CONF" admin create "$1" \
			--name "$1" --department "$4" >/dev/null 2>&1 || return 1
	else
		printf '%s\n' "$2" | "$HL_BIN/hotlinectl" -c "$ADMIN_CONF" admin create "$1" \
			--name "$1" >/dev/null 2>&1 || return 1
	fi
	sql "$ADMIN_DB" "UPDATE staff SET role = '$3' WHERE login = '$1'" >/dev/null
}

# One raw request: method, path, cookie, token, body.
admin_req() {
	a_m=$1 a_p=$2 a_c=${3:-} a_t=${4:-} a_d=${5:-}
	set -- -s -X "$a_m" -o "$tap_tmp/admin.b" -D "$tap_tmp/admin.h" -w '%{http_code}' \
		--max-time 20 -A "hotline-test/1.0"
	[ -z "$a_c" ] || set -- "$@" -H "Cookie: hl_session=$a_c"
	[ -z "$a_t" ] || set -- "$@" -H "X-CSRF-Token: $a_t"
	[ -z "$a_d" ] || set -- "$@" -H "Content-Type: application/json" --data-binary "$a_d"
	status=$(curl "$@" "${ADMIN_BASE}$a_p")
	body=$(cat "$tap_tmp/admin.b")
}

# After a sign-in step: the session it issued (each step rotates it).
admin_take_session() {
	a_new=$(sed -n 's/^set-cookie: hl_session=\([0-9a-f]*\);.*/\1/ip' "$tap_tmp/admin.h" | tr -d '\r')
	[ -z "$a_new" ] || admin_cookie=$a_new
	a_new=$(printf '%s' "$body" | sed -n 's/.*"csrf_token":"\([0-9a-f]*\)".*/\1/p')
	[ -z "$a_new" ] || admin_csrf=$a_new
}

admin_api() {	# admin_api METHOD PATH [JSON]
	admin_req "$1" "$2" "$admin_cookie" "$admin_csrf" "${3:-}"
}

jget() {	# jget JSON PATH
	printf '%s' "$1" | python3 -c 'import json,sys
v = json.load(sys.stdin)
r = eval("v" + sys.argv[1])
print(r if not isinstance(r, (dict, list, bool)) and r is not None else json.dumps(r, ensure_ascii=False))' "$2"
}

admin_signin() {	# admin_signin LOGIN PASSWORD
	a_totp="$HL_BIN/../tests/tools/totp_code"
	a_secret_file="$tap_tmp/totp.$1"
	# Each test sign-in may reuse the current time step: forget the last
	# one so that the replay guard (tested in admin_auth) stays out of the way.
	sql "$ADMIN_DB" "UPDATE staff SET totp_last_step = NULL WHERE login = '$1'" >/dev/null
	admin_req POST /api/login "" "" "{\"login\":\"$1\",\"password\":\"$2\"}"
	[ "$status" = 200 ] || return 1
	admin_cookie='' admin_csrf=''
	admin_take_session
	case $body in
	*'"status":"mfa_enrolment_required"'*)
		admin_api POST /api/me/totp/begin
		[ "$status" = 200 ] || return 1
		printf '%s' "$body" | sed -n 's/.*"secret":"\([A-Z2-7]*\)".*/\1/p' >"$a_secret_file"
		admin_api POST /api/me/totp/confirm "{\"code\":\"$("$a_totp" "$(cat "$a_secret_file")")\"}"
		[ "$status" = 200 ] || return 1
		admin_take_session
		;;
	*'"status":"totp_required"'*)
		admin_api POST /api/login/totp "{\"code\":\"$("$a_totp" "$(cat "$a_secret_file")")\"}"
		[ "$status" = 200 ] || return 1
		admin_take_session
		;;
	esac
	return 0
}
