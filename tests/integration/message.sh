#!/bin/sh
# lib/message against LINE's own checks: every message array the builder
# makes (text and card styles, long and short, emoji at the limits, each
# category, truncated ones) is sent to the simulator's validation endpoint
# and must get 200; a deliberately broken one must get 400 (docs/messages.md).
. "$HL_TOP/tests/lib.sh"

build="$HL_BIN/../tests/tools/message_build"
port=$(free_port 3)
U="http://127.0.0.1:$port"
"$HL_BIN/linesim" -l "127.0.0.1:$port" --seed 11 --www '' >"$tap_tmp/linesim.out" 2>"$tap_tmp/linesim.log" &
pid=$!
if wait_http "$U/healthz"; then ok "linesim listens"; else not_ok "linesim listens" "$(cat "$tap_tmp/linesim.log")"; fi
token=$(curl -s "$U/sim/channel" | sed -n 's/.*"channelAccessToken":"\([^"]*\)".*/\1/p')

# validate FILE — "STATUS BODY" of validate/push for {"messages": <FILE>}.
validate() {
	{
		printf '{"messages":'
		cat "$1"
		printf '}'
	} >"$tap_tmp/req.json"
	http POST "$U/v2/bot/message/validate/push" -H "Authorization: Bearer $token" \
		-H 'Content-Type: application/json' --data-binary "@$tap_tmp/req.json"
}

# sample NAME WANT-STDERR-PATTERN BUILDER-ARGS... — build, then LINE must accept it.
n=0
sample() {
	name=$1
	want=$2
	shift 2
	n=$((n + 1))
	if ! "$build" "$@" >"$tap_tmp/s$n.json" 2>"$tap_tmp/s$n.err"; then
		not_ok "$name: built" "$(cat "$tap_tmp/s$n.err")"
		not_ok "$name: LINE accepts it"
		return
	fi
	like "$name: built ($want)" "$(cat "$tap_tmp/s$n.err")" "^$want\$"
	is "$name: LINE accepts it" "$(validate "$tap_tmp/s$n.json")" '200 {}'
}

title='【防災】大雨警報の発表について'
sentence='市内に大雨警報が発表されました。河川の増水や土砂災害に警戒してください。'
link='https://www.city.takasaki.gunma.jp/docs/2026112500011/'
emoji='あい👨‍👩‍👧🇯🇵1️⃣❤️👍🏽'

# --- text style ---------------------------------------------------------------------
sample "text: short with a link" 'messages=1' --title "$title" --body "$sentence" --link "$link"
sample "text: body only" 'messages=1' --body "$sentence"
sample "text: long Japanese, split at sentences" 'messages=3' --title "$title" --body "$sentence" --repeat 350
sample "text: exactly 5,000 units" 'messages=1' --body 'あ' --repeat 5000
sample "text: 2,500 emoji are 5,000 units" 'messages=1' --body '😀' --repeat 2500
sample "text: 5,001 units make two" 'messages=2' --body 'あ' --repeat 5001 --title ''
sample "text: emoji sequences at every boundary" 'messages=5 truncated' --body "$emoji" --repeat 3000
sample "text: 5 × 5,000 units" 'messages=5' --body 'あ' --repeat 25000
sample "text: truncated with the notice and the link" 'messages=5 truncated' --title "$title" --body "$sentence" --repeat 2000 --link "$link"
sample "text: a URL longer than a message" 'messages=2' --body 'https://ex.jp/a' --repeat 600
check "text: the truncated one ends with the notice and the link" \
	grep -q "（続きは市のホームページをご覧ください）\\\\n詳しく見る\\\\n$link\"}]\$" "$tap_tmp/s9.json"

# --- card style ---------------------------------------------------------------------
for cat in crime_prevention traffic_safety disaster fire event course childcare health koho_takasaki other unknown_key; do
	sample "card: $cat" 'messages=1' --card --category "$cat" --title "$title" --body "$sentence" --link "$link" --link-label '市のページを見る'
done
check "card: the disaster colour is in the header" grep -q '"backgroundColor":"#C62828"' "$tap_tmp/s13.json"
sample "card: staff's category label, no link" 'messages=1' --card --category event --category-label '夏祭り' --title 'お祭りのお知らせ' --body '8月1日に開催します。'
sample "card: title only" 'messages=1' --card --title "$title"
sample "card: long body continues as text" 'messages=4' --card --category disaster --title "$title" --body "$sentence" --repeat 350 --link "$link"
sample "card: too long, truncated" 'messages=5 truncated' --card --category disaster --title "$title" --body "$sentence" --repeat 3000 --link "$link"
sample "card: altText cut among emoji" 'messages=1' --card --body '😀' --repeat 1000
sample "card: emoji sequences at every boundary" 'messages=5 truncated' --card --body "$emoji" --repeat 3000
sample "card: long title and label" 'messages=1' --card --title "$title" --repeat 1 --body "$sentence" --link "$link" --link-label 'とても長いボタンのラベルはLINEの上限で短くなります'
sample "card: a bad link dropped when asked" 'messages=1' --card --drop-bad-link --title "$title" --body "$sentence" --link 'javascript:alert(1)'
unlike "card: the dropped link is not in the card" "$(cat "$tap_tmp/s$n.json")" 'javascript|footer'

# --- refused by the builder -----------------------------------------------------------
for bad in 'http://www.city.takasaki.gunma.jp/' 'javascript:alert(1)' 'https://' 'https://user@evil.example/'; do
	if "$build" --card --title t --body b --link "$bad" >/dev/null 2>"$tap_tmp/bad.err"; then
		not_ok "the link $bad is refused"
	else
		like "the link $bad is refused" "$(cat "$tap_tmp/bad.err")" '^message_build: link URL '
	fi
done

# --- LINE refuses what is broken: the check can fail --------------------------------------
sed 's/"altText":"[^"]*",//' "$tap_tmp/s13.json" >"$tap_tmp/broken1.json"
like "a card without altText gets 400" "$(validate "$tap_tmp/broken1.json")" \
	'^400 .*"property":"messages\[0\]\.altText"'
{
	printf '[{"type":"text","text":"'
	sed 's/^\[{"type":"text","text":"//; s/"}\]$//' "$tap_tmp/s4.json" | tr -d '\n'
	printf 'い"}]'
} >"$tap_tmp/broken2.json"
like "a text of 5,001 units gets 400" "$(validate "$tap_tmp/broken2.json")" \
	'^400 .*"Length must be between 0 and 5000","property":"messages\[0\]\.text"'
{
	printf '['
	for i in 1 2 3 4 5; do printf '{"type":"text","text":"%s"},' "$i"; done
	printf '{"type":"text","text":"6"}]'
} >"$tap_tmp/broken3.json"
like "six messages get 400" "$(validate "$tap_tmp/broken3.json")" '^400 .*Size must be between 1 and 5'

kill -TERM "$pid"
wait "$pid"
is "linesim stops with status 0" "$?" 0
tap_done
