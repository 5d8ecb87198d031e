#!/bin/sh
# The staff UI (admin/www) in Chromium (playwright-core,
# tests/browser/admin.test.mjs) against a real hotline-admin, PostgreSQL,
# hotline-pusher and linesim as LINE: a 管理者 signs in for the first time
# (TOTP enrolment from the QR screen's secret, recovery codes, then a
# later sign-in with a code), composes, watches the live count follow the
# target, test-sends (only the test receiver's simulated LINE gets it),
# schedules and cancels (never sent), sends now (only the residents of the
# chosen region get it) and sees it in 配信履歴 with its figures.  Text
# from staff, residents' segments and mail with XSS payloads is shown as
# text.  Screenshots of every screen at 1366×768, 768×1024 and 375×812 are kept in
# var/test-artifacts/.
. "$HL_TOP/tests/lib.sh"
. "$HL_TOP/tests/lib_admin.sh"

chromium=${CHROMIUM:-/usr/bin/chromium}
if [ -x "$chromium" ] && [ -f "$HL_TOP/node_modules/playwright-core/package.json" ]; then
	ok "chromium and playwright-core are installed"
else
	not_ok "chromium and playwright-core are installed" "run tools/dev/deps (chromium, npm ci)"
	tap_done
fi

lport=$(free_port 1)
L="http://127.0.0.1:$lport"
"$HL_BIN/linesim" -l "127.0.0.1:$lport" --seed 47 >"$tap_tmp/linesim.out" 2>"$tap_tmp/linesim.log" &
simpid=$!
if wait_http "$L/healthz"; then ok "linesim listens"; else not_ok "linesim listens" "$(cat "$tap_tmp/linesim.log")"; fi
token=$(sed -n 's/.*"channelAccessToken":"\([^"]*\)".*/\1/p' "$tap_tmp/linesim.out")

db=$(db_new)
aport=$(free_port 2)
mport=$(free_port 3)
ADMIN_BASE="http://127.0.0.1:$aport"
ADMIN_DB=$db
# cookie_secure = no: the browser reaches hotline-admin over plain http on
# loopback (production sits behind TLS).
ADMIN_CONF=$(conf_for "$db" "[line]
api_base_url = $L
[admin]
listen = 127.0.0.1:$aport
cookie_secure = no
www_dir = $HL_BIN/../www/admin
[pusher]
metrics_listen = 127.0.0.1:$mport")
check "migrate" ctl "$ADMIN_CONF" migrate

# Residents, each a LINE friend at linesim: A chose 倉渕, B 榛名, T is the
# test receiver (a staff member's phone) and chose 榛名.
ids=$(curl -s -X POST "$L/sim/users" -d '{"count":3,"silent":true}' | grep -oE 'U[0-9a-f]{32}')
ua=$(echo "$ids" | sed -n 1p)
ub=$(echo "$ids" | sed -n 2p)
ut=$(echo "$ids" | sed -n 3p)
check "three residents with their regions, T a test receiver" sql "$db" "
	INSERT INTO residents (line_user_id, is_tester) VALUES ('$ua', false), ('$ub', false), ('$ut', true);
	INSERT INTO resident_choices (resident_id, value_id)
	SELECT r.id, v.id FROM residents r, segment_values v JOIN segment_items i ON i.id = v.item_id
	WHERE i.key = 'region' AND ((r.line_user_id = '$ua' AND v.key = 'kurabuchi')
		OR (r.line_user_id IN ('$ub', '$ut') AND v.key = 'haruna'))"

# XSS payloads where staff will see them: a segment value's label, a staff
# member's display name, a mail's subject (the composer adds its own).
xss='<img src=x onerror=__xss=1>"><svg onload=__xss=2><script>__xss=3</script>'
check "a segment value, a staff account and a mail carry XSS payloads" sql "$db" "
	INSERT INTO segment_values (item_id, key, label, position)
	SELECT id, 'xss_value', 'XSS-SEG $xss', 99 FROM segment_items WHERE key = 'category';
	INSERT INTO mails (via, dedupe_key, envelope_from, envelope_to, subject, body, raw, status, error)
	VALUES ('lmtp', 'mid:xss@test', 'anshin@example.jp', '{alerts@example.jp}', 'XSS-MAIL $xss',
		'body', convert_to('Subject: x', 'UTF8'), 'failed', 'test')"
check "a 管理者 account" admin_make tamura "tamura-kouhou-2026" admin 広報課
check "a 一般職員 account named with a payload" admin_make sato "sato-bousai-2026!!" staff 防災課
check "... its display name" sql "$db" "UPDATE staff SET display_name = 'XSS-STAFF $xss' WHERE login = 'sato'"
check "... who may send to 榛名" sql "$db" "INSERT INTO staff_segment_scope (staff_id, value_id)
	SELECT s.id, v.id FROM staff s, segment_values v JOIN segment_items i ON i.id = v.item_id
	WHERE s.login = 'sato' AND i.key = 'region' AND v.key = 'haruna'"

HOTLINE_LINE_CHANNEL_TOKEN=$token "$HL_BIN/hotline-pusher" -c "$ADMIN_CONF" 2>"$tap_tmp/pusher.log" &
pupid=$!
if admin_start "$ADMIN_CONF" "$tap_tmp/admin.log"; then ok "hotline-admin listens"; else
	not_ok "hotline-admin listens" "$(cat "$tap_tmp/admin.log")"; fi
if wait_http "http://127.0.0.1:$mport/healthz"; then ok "hotline-pusher listens"; else
	not_ok "hotline-pusher listens" "$(cat "$tap_tmp/pusher.log")"; fi

# The UI's files, as any browser gets them.
r=$(curl -s -o "$tap_tmp/index" -w '%{http_code} %{content_type}' "$ADMIN_BASE/")
is "GET / is the UI's index.html" "$r" "200 text/html; charset=utf-8"
like "... in Japanese" "$(cat "$tap_tmp/index")" '<html lang="ja">'
h=$(curl -s -D - -o /dev/null "$ADMIN_BASE/app.js")
like "app.js is JavaScript" "$h" '[Cc]ontent-[Tt]ype: text/javascript'
like "... under the CSP without inline script" "$h" "Content-Security-Policy: default-src 'self'"
is "a path that is not a file is 404" "$(curl -s -o /dev/null -w '%{http_code}' "$ADMIN_BASE/nope.js")" 404
is "no way out of www_dir" "$(curl -s -o /dev/null -w '%{http_code}' --path-as-is "$ADMIN_BASE/../../etc/passwd")" 404
is "... not even %-encoded" "$(curl -s -o /dev/null -w '%{http_code}' --path-as-is "$ADMIN_BASE/%2e%2e/%2e%2e/etc/passwd")" 404
is "POST to a page is 405" "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$ADMIN_BASE/index.html")" 405
is "the API is still the API" "$(curl -s -o /dev/null -w '%{http_code}' "$ADMIN_BASE/api/me")" 401

# Without its files hotline-admin still serves the API, and says what is missing.
bport=$(free_port 4)
conf2=$(conf_for "$db" "[admin]
listen = 127.0.0.1:$bport
www_dir = $tap_tmp/no-such-dir")
HOTLINE_ADMIN_TOTP_KEY=$ADMIN_TOTP_KEY "$HL_BIN/hotline-admin" -c "$conf2" 2>"$tap_tmp/admin2.log" &
a2pid=$!
wait_http "http://127.0.0.1:$bport/healthz"
r=$(curl -s -w ' %{http_code}' "http://127.0.0.1:$bport/" | tr -d '\n')
like "www_dir missing: the UI answers 503 naming the key" "$r" 'www_dir.* 503$'
is "... the API still answers" "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$bport/api/me")" 401
like "... and the log says why" "$(cat "$tap_tmp/admin2.log")" 'staff UI not served.*no-such-dir'
kill "$a2pid" 2>/dev/null
wait "$a2pid" 2>/dev/null

art="$HL_TOP/var/test-artifacts"
mkdir -p "$art"
rm -f "$art"/admin-*.png
ADMIN_URL=$ADMIN_BASE LINESIM_URL=$L DB=$db ARTIFACTS=$art CHROMIUM=$chromium \
	TOTP_CODE="$HL_BIN/../tests/tools/totp_code" USER_A=$ua USER_B=$ub USER_T=$ut \
	node "$HL_TOP/tests/browser/admin.test.mjs" \
	>"$tap_tmp/browser.out" 2>"$tap_tmp/browser.err"
rc=$?
# "ok NAME" / "not ok NAME" + "# detail" lines become this script's TAP.
name=""
detail=""
flush() {
	[ -n "$name" ] || return 0
	if [ "$state" = ok ]; then ok "$name"; else not_ok "$name" "$detail"; fi
	name=""
	detail=""
}
while IFS= read -r line; do
	case $line in
	"not ok "*) flush; state=bad; name=${line#not ok } ;;
	"ok "*) flush; state=ok; name=${line#ok } ;;
	"# "*) detail="$detail${detail:+
}${line#\# }" ;;
	esac
done <"$tap_tmp/browser.out"
flush
is "the browser test exits 0" "$rc" 0 || true
[ "$rc" -eq 0 ] || sed 's/^/# /' "$tap_tmp/browser.err" | head -n 40
for s in login enrol compose history segments staff mail audit settings; do
	for w in 1366 768 375; do
		f=admin-$s-$w.png
		if [ -s "$art/$f" ]; then ok "screenshot var/test-artifacts/$f"; else not_ok "screenshot var/test-artifacts/$f"; fi
	done
done

kill "$admin_pid" "$pupid" "$simpid" 2>/dev/null
wait "$admin_pid" "$pupid" "$simpid" 2>/dev/null
unlike "no LINE user id in hotline-admin's log" "$(cat "$tap_tmp/admin.log")" 'U[0-9a-f]{32}'
tap_done
