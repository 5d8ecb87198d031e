#!/bin/sh
# The 受信設定 page in Chromium (playwright-core, tests/browser/liff.test.mjs)
# at 375×667 and 320 px against a real hotline-webhook, PostgreSQL and
# linesim as LINE Login: the page is opened, settings are changed and saved,
# and the database is checked.  See the test file for why window.liff is
# stubbed (its ID token is still a real one, verified with linesim).
# Screenshots are kept in var/test-artifacts/.
. "$HL_TOP/tests/lib.sh"

chromium=${CHROMIUM:-/usr/bin/chromium}
if [ -x "$chromium" ] && [ -f "$HL_TOP/node_modules/playwright-core/package.json" ]; then
	ok "chromium and playwright-core are installed"
else
	not_ok "chromium and playwright-core are installed" "run tools/dev/deps (chromium, npm ci)"
	tap_done
fi

lport=$(free_port 1)
L="http://127.0.0.1:$lport"
"$HL_BIN/linesim" -l "127.0.0.1:$lport" --seed 31 >"$tap_tmp/linesim.out" 2>"$tap_tmp/linesim.log" &
simpid=$!
if wait_http "$L/healthz"; then ok "linesim listens"; else not_ok "linesim listens" "$(cat "$tap_tmp/linesim.log")"; fi
secret=$(sed -n 's/.*"channelSecret":"\([^"]*\)".*/\1/p' "$tap_tmp/linesim.out")
login=$(sed -n 's/.*"loginChannelId":"\([^"]*\)".*/\1/p' "$tap_tmp/linesim.out")

db=$(db_new)
wport=$(free_port 2)
W="http://127.0.0.1:$wport"
conf=$(conf_for "$db" "[line]
api_base_url = $L
login_channel_id = $login
liff_id = $login-TestLiff
[webhook]
listen = 127.0.0.1:$wport
liff_dir = $HL_BIN/../www/liff
threads = 2")
check "migrate" ctl "$conf" migrate
HOTLINE_LINE_CHANNEL_SECRET=$secret "$HL_BIN/hotline-webhook" -c "$conf" 2>"$tap_tmp/webhook.log" &
whpid=$!
if wait_http "$W/healthz"; then ok "webhook listens"; else not_ok "webhook listens" "$(cat "$tap_tmp/webhook.log")"; fi

ids=$(curl -s -X POST "$L/sim/users" -d '{"count":2,"silent":true}' | grep -oE 'U[0-9a-f]{32}')
u1=$(echo "$ids" | sed -n 1p)
u2=$(echo "$ids" | sed -n 2p)
check "a friend and a resident who blocked the account" sql "$db" "
	INSERT INTO residents (line_user_id) VALUES ('$u1');
	INSERT INTO residents (line_user_id, status, blocked_at) VALUES ('$u2', 'blocked', now())"

art="$HL_TOP/var/test-artifacts"
mkdir -p "$art"
rm -f "$art/liff-375.png" "$art/liff-320.png"
LIFF_URL=$W LINESIM_URL=$L USER_ID=$u1 BLOCKED_ID=$u2 DB=$db ARTIFACTS=$art CHROMIUM=$chromium \
	node "$HL_TOP/tests/browser/liff.test.mjs" \
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
for f in liff-375.png liff-320.png; do
	if [ -s "$art/$f" ]; then ok "screenshot var/test-artifacts/$f"; else not_ok "screenshot var/test-artifacts/$f"; fi
done

kill "$whpid" "$simpid" 2>/dev/null
wait "$whpid" "$simpid" 2>/dev/null
tap_done
