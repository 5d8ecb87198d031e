#!/bin/sh
# hotlinectl richmenu against linesim: render (PNG at LINE's size, at most
# 1 MB, and SVG) without LINE; an invalid layout refused with FILE: where:
# why before anything is sent; publish the normal set (3 menus with images,
# aliases, the default menu, rows and an audit row); a resident's taps on
# the tab bar and on a richmenuswitch area change their menu; the disaster
# set published while not shown, then switched to for everyone (default,
# aliases, the residents' own tab links dropped) and back; publishes that
# fail half-way (a fault on the image upload, a fault on the aliases) leave
# the previous set live and no menu behind at linesim.
. "$HL_TOP/tests/lib.sh"

L="$HL_TOP/etc/richmenu"
port=$(free_port 1)
U="http://127.0.0.1:$port"
"$HL_BIN/linesim" -l "127.0.0.1:$port" --seed 5 --www '' \
	>"$tap_tmp/linesim.out" 2>"$tap_tmp/linesim.log" &
simpid=$!
trap 'kill $simpid 2>/dev/null; tap_cleanup' EXIT
if wait_http "$U/healthz"; then ok "linesim listens"; else not_ok "linesim listens" "$(cat "$tap_tmp/linesim.log")"; fi
token=$(sed -n 's/.*"channelAccessToken":"\([^"]*\)".*/\1/p' "$tap_tmp/linesim.out")
export HOTLINE_LINE_CHANNEL_TOKEN="$token"

db=$(db_new)
conf=$(conf_for "$db" "[line]
api_base_url = $U
data_api_base_url = $U
request_timeout_ms = 3000")
# conf_for names its file after the database: keep this one apart.
mv "$conf" "$tap_tmp/main.conf"
conf="$tap_tmp/main.conf"
check "migrate" ctl "$conf" migrate

# api PATH — GET a Messaging API path with the token; the body.
api() {
	curl -s --max-time 5 -H "Authorization: Bearer $token" "$U$1"
}
ids_of() {	# the richMenuIds in a JSON text, one a line
	printf '%s' "$1" | grep -o '"richMenuId":"[^"]*"' | sed 's/.*:"\(.*\)"/\1/'
}
menus() { ids_of "$(api /v2/bot/richmenu/list)" | sort; }
default_menu() { ids_of "$(api /v2/bot/user/all/richmenu)"; }
alias_menu() { ids_of "$(api "/v2/bot/richmenu/alias/$1")"; }
live_id() {	# live_id SET TAB — the live menu of that tab in the database
	sql "$db" "SELECT line_richmenu_id FROM richmenus WHERE set_name = '$1' AND tab_no = $2 AND status = 'live'"
}
user_menu() {	# user_menu UID — the menu linesim shows that resident
	curl -s --max-time 5 "$U/sim/users/$1/richmenu" | sed -n 's/.*"richMenuId":"\([^"]*\)".*/\1/p'
}
tap() {	# tap UID X Y
	curl -s --max-time 5 -X POST "$U/sim/users/$1/events" \
		-d "{\"type\":\"richmenu_tap\",\"x\":$2,\"y\":$3}" >/dev/null
}
# png_size FILE — "WIDTHxHEIGHT" from the PNG signature and IHDR, read with od.
png_size() {
	sig=$(od -An -tx1 -N8 "$1" | tr -d ' \n')
	[ "$sig" = 89504e470d0a1a0a ] || { echo "not a PNG: $sig"; return; }
	od -An -tu1 -j12 -N12 "$1" | awk '{
		if ($1 != 73 || $2 != 72 || $3 != 68 || $4 != 82) { print "no IHDR"; exit }
		printf "%dx%d\n", (($5 * 256 + $6) * 256 + $7) * 256 + $8, (($9 * 256 + $10) * 256 + $11) * 256 + $12 }'
}
requests() { curl -s --max-time 5 "$U/sim/requests?since=0" | grep -o '"path":"/v2/[^"]*"' | wc -l | tr -d ' '; }

# --- render and validate: no LINE, no configuration ------------------------------
out=$("$HL_BIN/hotlinectl" -c /nonexistent/hotline.conf richmenu render "$L/normal.json" \
	--png "$tap_tmp/n1.png" --svg "$tap_tmp/n1.svg" 2>&1)
is "render needs neither LINE nor a configuration file" "$?" 0
is "the PNG is the layout's size" "$(png_size "$tap_tmp/n1.png")" "2500x1686"
bytes=$(wc -c <"$tap_tmp/n1.png" | tr -d ' ')
if [ "$bytes" -gt 1000 ] && [ "$bytes" -le 1048576 ]; then ok "the PNG is within LINE's 1 MB ($bytes bytes)"; else not_ok "the PNG is within LINE's 1 MB" "$bytes bytes"; fi
like "the SVG is an SVG document of the same size" "$(head -c 400 "$tap_tmp/n1.svg")" '<svg[^>]*width="2500[^"]*"[^>]*height="1686'
# Every tab of both sets: a size LINE accepts (800-2500 wide, at least 250
# high, width/height at least 1.45) and what the layout says.
for set in normal disaster; do
	for tab in 1 2 3; do
		ctl "$conf" richmenu render "$L/$set.json" --tab $tab --png "$tap_tmp/$set$tab.png" >/dev/null 2>&1
		sz=$(png_size "$tap_tmp/$set$tab.png")
		w=${sz%x*}
		h=${sz#*x}
		if [ "$w" -ge 800 ] && [ "$w" -le 2500 ] && [ "$h" -ge 250 ] && [ $((w * 100)) -ge $((h * 145)) ]; then
			ok "$set tab $tab: $sz is a size LINE accepts"
		else
			not_ok "$set tab $tab: a size LINE accepts" "$sz"
		fi
	done
done
out=$(ctl "$conf" richmenu validate "$L/disaster.json" 2>&1)
like "validate says the layout is ok" "$out" "disaster.json: layout ok \(set disaster\)"
like "and lists the tabs, 防災 first" "$out" "tab 1 防災 \(alias hotline-tab1\): 5 areas"

before=$(requests)
sed 's/"chatBarText": "メニュー"/"chatBarText": "メニューを開いてお知らせを見る"/' "$L/normal.json" >"$tap_tmp/bad.json"
out=$(ctl "$conf" richmenu publish "$tap_tmp/bad.json" 2>&1)
is "an invalid layout is refused" "$?" 1
like "naming the file, where and why" "$out" "bad\.json: tabs\[0\]\.chatBarText: too long \(15 characters, at most 14\)"
sed -e 's/"label": "受信設定"/"label": "受信設定を変更して、地区や種類ごとに受け取るお知らせを選んでください。"/' \
	-e 's/"grid": {[^}]*}/"grid": {"columns": 4, "rows": 4}/' "$L/normal.json" >"$tap_tmp/long.json"
out=$(ctl "$conf" richmenu publish "$tap_tmp/long.json" 2>&1)
like "a label that cannot fit is refused" "$out" "long\.json: tabs\[0\]\.areas\[7\]\.label: does not fit its area"
is "nothing was sent to LINE" "$(requests)" "$before"
is "nothing was recorded" "$(sql "$db" "SELECT count(*) FROM richmenus")" 0

# --- publish the normal set ----------------------------------------------------------
out=$(ctl "$conf" richmenu publish "$L/normal.json" 2>&1)
is "publish normal succeeds" "$?" 0
like "and says it is live" "$out" "published the normal set; it is live for every resident"
is "linesim has 3 menus" "$(menus | wc -l | tr -d ' ')" 3
n1=$(live_id normal 1)
n2=$(live_id normal 2)
n3=$(live_id normal 3)
is "the database has the 3 live tabs, as at LINE" "$(printf '%s\n' "$n1" "$n2" "$n3" | sort)" "$(menus)"
for id in $n1 $n2 $n3; do
	st=$(curl -s -o "$tap_tmp/img" -w '%{http_code} %{content_type}' -H "Authorization: Bearer $token" "$U/v2/bot/richmenu/$id/content")
	is "menu $id has its PNG image" "$st" "200 image/png"
done
is "the image at LINE is the rendered one" "$(png_size "$tap_tmp/img")" "2500x1686"
is "the default menu is tab 1" "$(default_menu)" "$n1"
is "alias hotline-tab1 names tab 1" "$(alias_menu hotline-tab1)" "$n1"
is "alias hotline-tab2 names tab 2" "$(alias_menu hotline-tab2)" "$n2"
is "alias hotline-tab3 names tab 3" "$(alias_menu hotline-tab3)" "$n3"
is "the rows keep title, chat bar text, alias, image and layout" \
	"$(sql "$db" "SELECT string_agg(tab_no || ':' || title || ':' || chat_bar_text || ':' || alias || ':' || image_type || ':' || (octet_length(image) > 1000) || ':' || (layout->>'set'), ' ' ORDER BY tab_no) FROM richmenus WHERE status = 'live'")" \
	"1:メインメニュー:メニュー:hotline-tab1:image/png:true:normal 2:防災:メニュー:hotline-tab2:image/png:true:normal 3:おすすめ情報:メニュー:hotline-tab3:image/png:true:normal"
is "publish is in the audit log" \
	"$(sql "$db" "SELECT actor || '|' || action || '|' || (detail->>'set') FROM audit_log WHERE action LIKE 'richmenu.%' ORDER BY id")" \
	"hotlinectl|richmenu.publish|normal"

# --- a resident taps -------------------------------------------------------------------
uid=$(curl -s -X POST "$U/sim/users" -d '{"count":1}' | sed 's/.*"userIds":\["\([^"]*\)".*/\1/')
is "a new resident sees the default menu (tab 1)" "$(user_menu "$uid")" "$n1"
tap "$uid" 1250 100	# the tab bar's second segment
is "tapping the tab bar shows tab 2" "$(user_menu "$uid")" "$n2"
like "with its alias" "$(curl -s "$U/sim/users/$uid/richmenu")" '"richMenuAliasId":"hotline-tab2"'
tap "$uid" 2200 100	# the third segment
is "tapping the tab bar shows tab 3" "$(user_menu "$uid")" "$n3"
tap "$uid" 300 100
is "and back to tab 1" "$(user_menu "$uid")" "$n1"
tap "$uid" 1250 100
is "tab 2 from the bar" "$(user_menu "$uid")" "$n2"

# --- the disaster set: published ahead, then shown to everyone ---------------------------
out=$(ctl "$conf" richmenu switch disaster 2>&1)
is "switching to a set never published fails" "$?" 1
like "and says to publish it first" "$out" "the disaster set has not been published yet"
is "the default menu did not change" "$(default_menu)" "$n1"
out=$(ctl "$conf" richmenu publish "$L/disaster.json" 2>&1)
is "publish disaster succeeds" "$?" 0
like "and says it is ready, not shown" "$out" "published the disaster set; it is ready"
d1=$(live_id disaster 1)
d2=$(live_id disaster 2)
d3=$(live_id disaster 3)
is "linesim has 6 menus" "$(menus | wc -l | tr -d ' ')" 6
is "the default menu is still normal tab 1" "$(default_menu)" "$n1"
is "the aliases still name the normal set" "$(alias_menu hotline-tab2)" "$n2"
is "the resident still sees normal tab 2" "$(user_menu "$uid")" "$n2"

out=$(ctl "$conf" richmenu switch disaster 2>&1)
is "switch disaster succeeds" "$?" 0
like "and says so" "$out" "the disaster set is now shown to every resident"
is "the default menu is disaster tab 1 (防災)" "$(default_menu)" "$d1"
is "alias hotline-tab1 names disaster tab 1" "$(alias_menu hotline-tab1)" "$d1"
is "alias hotline-tab2 names disaster tab 2" "$(alias_menu hotline-tab2)" "$d2"
is "alias hotline-tab3 names disaster tab 3" "$(alias_menu hotline-tab3)" "$d3"
is "the resident who had switched tabs now sees disaster tab 1" "$(user_menu "$uid")" "$d1"
uid2=$(curl -s -X POST "$U/sim/users" -d '{"count":1}' | sed 's/.*"userIds":\["\([^"]*\)".*/\1/')
is "a new resident sees disaster tab 1" "$(user_menu "$uid2")" "$d1"
tap "$uid" 1250 100
is "the tab bar leads within the disaster set" "$(user_menu "$uid")" "$d2"
tap "$uid" 2200 500	# 避難所検索 on disaster tab 2: richmenuswitch to tab 1
is "a richmenuswitch area leads to its tab" "$(user_menu "$uid")" "$d1"
tap "$uid" 1250 100
is "one batch call was used (LINE allows 3 an hour)" \
	"$(curl -s "$U/sim/requests?since=0" | grep -o '"path":"/v2/bot/richmenu/batch"' | wc -l | tr -d ' ')" 1
is "the bulk link API was not used" \
	"$(curl -s "$U/sim/requests?since=0" | grep -c '"path":"/v2/bot/richmenu/bulk')" 0
is "settings richmenu.active_set is disaster" "$(sql "$db" "SELECT value #>> '{}' FROM settings WHERE key = 'richmenu.active_set'")" "disaster"
is "the switch is in the audit log" \
	"$(sql "$db" "SELECT action || '|' || (detail->>'from') || '|' || (detail->>'to') FROM audit_log ORDER BY id DESC LIMIT 1")" \
	"richmenu.switch|normal|disaster"
out=$(ctl "$conf" richmenu status 2>&1)
like "status names the active set" "$out" "active set: disaster"
like "and the default menu" "$out" "tab 1 防災: $d1 alias hotline-tab1 .*\(default\)"

out=$(ctl "$conf" richmenu switch normal 2>&1)
is "switch back to normal succeeds" "$?" 0
is "the default menu is normal tab 1 again" "$(default_menu)" "$n1"
is "alias hotline-tab2 names normal tab 2 again" "$(alias_menu hotline-tab2)" "$n2"
is "the resident sees normal tab 1" "$(user_menu "$uid")" "$n1"
is "the audit chain verifies" "$(sql "$db" "SELECT coalesce(audit_verify()::text, 'intact')")" "intact"

# --- publishing that fails half-way ------------------------------------------------------
all_before=$(menus)
rows_before=$(sql "$db" "SELECT string_agg(id || status, ',' ORDER BY id) FROM richmenus")
# The image upload (LINE's data API host) answers 500: the data API base URL
# gets its own path prefix here so that a fault (linesim's faults apply under
# /v2/) can single it out.
conf_up=$(conf_for "$db" "[line]
api_base_url = $U
data_api_base_url = $U/v2/data-api
request_timeout_ms = 3000")
curl -s -X POST "$U/sim/faults" -d '{"path":"/v2/data-api","status":500}' >/dev/null
out=$(ctl "$conf_up" richmenu publish "$L/normal.json" 2>&1)
is "a publish whose image upload fails fails" "$?" 1
like "saying where" "$out" "tab 1: upload image: LINE answered 500"
like "and that the previous menus stay live" "$out" "publishing the normal set failed; nothing changed"
is "no menu is left behind at linesim" "$(menus)" "$all_before"
is "the default menu is still normal tab 1" "$(default_menu)" "$n1"
is "the aliases are unchanged" "$(alias_menu hotline-tab1) $(alias_menu hotline-tab3)" "$n1 $n3"
is "the database is unchanged" "$(sql "$db" "SELECT string_agg(id || status, ',' ORDER BY id) FROM richmenus")" "$rows_before"
curl -s -X DELETE "$U/sim/faults" >/dev/null

# The aliases cannot be updated: the three new menus exist, with images, when it fails.
curl -s -X POST "$U/sim/faults" -d '{"path":"/v2/bot/richmenu/alias","status":500}' >/dev/null
out=$(ctl "$conf" richmenu publish "$L/normal.json" 2>&1)
is "a publish whose aliases fail fails" "$?" 1
like "saying why" "$out" "update alias: LINE answered 500"
is "the three new menus were deleted" "$(menus)" "$all_before"
is "the default menu is still normal tab 1 (after the alias fault)" "$(default_menu)" "$n1"
is "the database is unchanged (after the alias fault)" "$(sql "$db" "SELECT string_agg(id || status, ',' ORDER BY id) FROM richmenus")" "$rows_before"
is "no audit row for the failed publishes" "$(sql "$db" "SELECT count(*) FROM audit_log WHERE action = 'richmenu.publish'")" 2
curl -s -X DELETE "$U/sim/faults" >/dev/null
tap "$uid2" 1250 100
is "residents still switch tabs in the live set" "$(user_menu "$uid2")" "$n2"

# --- publishing again replaces the set ----------------------------------------------------
out=$(ctl "$conf" richmenu publish "$L/normal.json" 2>&1)
is "publishing the normal set again succeeds" "$?" 0
m1=$(live_id normal 1)
if [ -n "$m1" ] && [ "$m1" != "$n1" ]; then ok "tab 1 is a new menu"; else not_ok "tab 1 is a new menu" "$m1"; fi
is "the default menu is the new tab 1" "$(default_menu)" "$m1"
is "the old normal menus were deleted at LINE (3 normal + 3 disaster)" "$(menus | wc -l | tr -d ' ')" 6
is "the old rows are retired" "$(sql "$db" "SELECT count(*) FROM richmenus WHERE set_name = 'normal' AND status = 'retired'")" 3
out=$(ctl "$conf" richmenu switch holiday 2>&1)
is "an unknown set is a usage error" "$?" 2

kill $simpid
wait $simpid 2>/dev/null
tap_done
