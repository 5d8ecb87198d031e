#!/bin/sh
# linesim against hostile HTTP input: oversize and lying bodies, broken and
# deep JSON, bytes that are not UTF-8, NULs, huge arrays, path traversal,
# long URLs and headers, bad retry keys and query arguments, unknown users.
# Each must get a clear 4xx, in LINE's error shape where LINE has one, and
# linesim must stay up (checked after each group) and, in the ASan build,
# stop cleanly without a sanitizer report.
. "$HL_TOP/tests/lib.sh"

port=$(free_port 3)
U="http://127.0.0.1:$port"
"$HL_BIN/linesim" -l "127.0.0.1:$port" --seed 11 --www "$HL_TOP/tools/linesim/www" \
	>"$tap_tmp/linesim.out" 2>"$tap_tmp/linesim.log" &
pid=$!
if wait_http "$U/healthz"; then ok "linesim listens"; else not_ok "linesim listens" "$(cat "$tap_tmp/linesim.log")"; fi

jstr() {	# jstr NAME JSON
	printf '%s' "$2" | sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p" | head -n 1
}
token=$(jstr channelAccessToken "$(curl -s "$U/sim/channel")")
auth="Authorization: Bearer $token"
# POST a file as the body with the channel token: "STATUS BODY".
post_file() {	# post_file PATH FILE [CURL-ARGS...]
	p=$1
	f=$2
	shift 2
	http POST "$U$p" -H "$auth" -H 'Content-Type: application/json' --data-binary "@$f" "$@"
}
post() {	# post PATH JSON [CURL-ARGS...]
	p=$1
	printf '%s' "$2" >"$tap_tmp/req"
	shift 2
	post_file "$p" "$tap_tmp/req" "$@"
}
get() {	# get PATH [CURL-ARGS...]
	p=$1
	shift
	http GET "$U$p" -H "$auth" "$@"
}
# The status alone, for answers that come from libmicrohttpd (HTML).
status() {	# status CURL-ARGS...
	curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@"
}
alive() {	# alive GROUP — linesim still answers after GROUP
	like "linesim is up after $1" "$(http GET "$U/sim/channel")" '^200 \{"channelId":"[0-9]+"'
}
repeat() {	# repeat TEXT N — TEXT N times
	awk -v s="$1" -v n="$2" 'BEGIN { for (i = 0; i < n; i++) printf "%s", s }'
}

u1=$(curl -s -X POST "$U/sim/users" -d '{"count":1,"silent":true}' | sed -n 's/.*"userIds":\["\([^"]*\)".*/\1/p')
like "a resident to send to" "$u1" '^U[0-9a-f]{32}$'
msg='{"type":"text","text":"x"}'
push_ok="{\"to\":\"$u1\",\"messages\":[$msg]}"
too_large='413 {"message":"The request body is too large (at most 2 MB)"}'

# --- bodies over the limit (2 MB) ------------------------------------------------------
{ printf '{"to":"%s","messages":[{"type":"text","text":"' "$u1"; repeat a 2097152; printf '"}]}'; } >"$tap_tmp/big"
is "a body over 2 MB is 413 in LINE's shape" "$(post_file /v2/bot/message/push "$tap_tmp/big")" "$too_large"
is "as JSON" "$(curl -s -o /dev/null -w '%{content_type}' -H "$auth" --data-binary "@$tap_tmp/big" "$U/v2/bot/message/push")" application/json
is "chunked, without Content-Length, too" "$(post_file /v2/bot/message/push "$tap_tmp/big" -H 'Transfer-Encoding: chunked')" "$too_large"
is "and on the control API" "$(http POST "$U/sim/users" --data-binary "@$tap_tmp/big")" "$too_large"
is "an announced oversize body is refused before it is sent" \
	"$(post /v2/bot/message/push "$push_ok" -H 'Content-Length: 3000000' --max-time 3)" "$too_large"
head -c 2097152 /dev/zero | tr '\0' ' ' >"$tap_tmp/spaces"
is "exactly 2 MB is read (and is not JSON)" "$(post_file /v2/bot/message/push "$tap_tmp/spaces")" \
	'400 {"message":"The request body has a syntax error (line: 1, column: 2097152)"}'
alive "oversize bodies"

# --- invalid JSON ----------------------------------------------------------------------------
is "a truncated body" "$(post /v2/bot/message/push '{"to":')" \
	'400 {"message":"The request body has a syntax error (line: 1, column: 6)"}'
is "an empty body" "$(post /v2/bot/message/push '')" '400 {"message":"The request body is empty"}'
is "an array body" "$(post /v2/bot/message/push '[]')" '400 {"message":"The request body must be an object"}'
is "a bare string" "$(post /v2/bot/message/multicast '"x"')" \
	'400 {"message":"The request body has a syntax error (line: 1, column: 3)"}'
is "trailing garbage" "$(post /v2/bot/message/broadcast '{"messages":[]} x')" \
	'400 {"message":"The request body has a syntax error (line: 1, column: 17)"}'
is "messages as an object, not an array" "$(post /v2/bot/message/push "{\"to\":\"$u1\",\"messages\":{\"type\":\"text\"}}")" \
	'400 {"message":"The request body has 1 error(s)","details":[{"message":"Must be an array","property":"messages"}]}'
is "control API: broken JSON" "$(http POST "$U/sim/users/$u1/events" -d '{"type":')" \
	'400 {"message":"The request body has a syntax error (line: 1, column: 8)"}'
alive "invalid JSON"

# --- nesting -----------------------------------------------------------------------------------
{ repeat '[' 10000; repeat ']' 10000; } >"$tap_tmp/deep"
is "JSON nested 10,000 deep" "$(post_file /v2/bot/message/push "$tap_tmp/deep")" \
	'400 {"message":"The request body is nested too deeply"}'
is "on the control API too" "$(http POST "$U/sim/faults" --data-binary "@$tap_tmp/deep")" \
	'400 {"message":"The request body is nested too deeply"}'
{ printf '{"to":"%s","messages":[{"type":"flex","altText":"a","contents":{"type":"bubble","body":' "$u1"; repeat '[' 70; repeat ']' 70; printf '}}]}'; } >"$tap_tmp/deep70"
is "70 levels: past the 64 linesim allows" "$(post_file /v2/bot/message/push "$tap_tmp/deep70")" \
	'400 {"message":"The request body is nested too deeply"}'
{ repeat '{"a":' 5000; printf '1'; repeat '}' 5000; } >"$tap_tmp/deepobj"
is "objects nested 5,000 deep" "$(post_file /v2/bot/message/reply "$tap_tmp/deepobj")" \
	'400 {"message":"The request body is nested too deeply"}'
alive "deep nesting"

# --- a 1 MB string value -------------------------------------------------------------------------
{ printf '{"to":"%s","messages":[{"type":"text","text":"' "$u1"; repeat a 1048576; printf '"}]}'; } >"$tap_tmp/mb"
is "1 MB of text" "$(post_file /v2/bot/message/push "$tap_tmp/mb")" \
	'400 {"message":"The request body has 1 error(s)","details":[{"message":"Length must be between 0 and 5000","property":"messages[0].text"}]}'
{ printf '{"to":"'; repeat U 1048576; printf '","messages":[%s]}' "$msg"; } >"$tap_tmp/mbto"
is "a 1 MB user id" "$(post_file /v2/bot/message/push "$tap_tmp/mbto")" \
	'400 {"message":"The request body has 1 error(s)","details":[{"message":"Invalid user ID","property":"to"}]}'
{ printf '{"messages":[{"type":"'; repeat t 1048576; printf '"}]}'; } >"$tap_tmp/mbtype"
like "a 1 MB message type" "$(post_file /v2/bot/message/broadcast "$tap_tmp/mbtype")" \
	'^400 \{"message":"The request body has 1 error\(s\)","details":\[\{"message":"Must be one of the following values: \[text, .*\]","property":"messages\[0\]\.type"\}\]\}$'
{ printf '{"'; repeat k 1048576; printf '":1,"messages":[%s]}' "$msg"; } >"$tap_tmp/mbkey"
is "a 1 MB key is ignored like any unknown key" "$(post_file /v2/bot/message/validate/broadcast "$tap_tmp/mbkey")" '200 {}'
{ printf '{"type":"message","text":"'; repeat a 1048576; printf '"}'; } >"$tap_tmp/mbevent"
like "a resident may send 1 MB (no webhook URL: nothing is sent)" "$(http POST "$U/sim/users/$u1/events" --data-binary "@$tap_tmp/mbevent")" \
	'^200 \{"webhookStatus":0,"attempts":0,'
is "nothing oversize was delivered" "$(curl -s "$U/sim/users/$u1/inbox")" "{\"userId\":\"$u1\",\"following\":true,\"messages\":[]}"
alive "1 MB strings"

# --- Content-Length lies -----------------------------------------------------------------------
is "shorter than the body: the body is cut there" "$(post /v2/bot/message/push "$push_ok" -H 'Content-Length: 7')" \
	'400 {"message":"The request body has a syntax error (line: 1, column: 7)"}'
is "longer than the body: no answer, the client gives up" \
	"$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 -H "$auth" -H 'Content-Length: 1000' --data-binary "$push_ok" "$U/v2/bot/message/push")" 000
is "not a number: 400" "$(status -H "$auth" -H 'Content-Length: abc' --data-binary "$push_ok" "$U/v2/bot/message/push")" 400
is "negative: 400" "$(status -H "$auth" -H 'Content-Length: -5' --data-binary "$push_ok" "$U/v2/bot/message/push")" 400
is "past 64 bits: 413" "$(status -H "$auth" -H 'Content-Length: 99999999999999999999999' --data-binary "$push_ok" "$U/v2/bot/message/push")" 413
is "two different lengths: 400" "$(status -H "$auth" -H 'Content-Length: 10' -H 'Content-Length: 20' --data-binary "$push_ok" "$U/v2/bot/message/push")" 400
is "nothing was delivered" "$(curl -s "$U/sim/users/$u1/inbox")" "{\"userId\":\"$u1\",\"following\":true,\"messages\":[]}"
alive "Content-Length lies"

# --- bytes that are not UTF-8, NULs -----------------------------------------------------------
printf '{"to":"%s","messages":[{"type":"text","text":"\377\376 caf\351"}]}' "$u1" >"$tap_tmp/latin1"
is "Latin-1 bytes in text" "$(post_file /v2/bot/message/push "$tap_tmp/latin1")" '400 {"message":"The request body is not valid UTF-8"}'
printf '{"to":"%s","messages":[{"type":"text","text":"\355\240\275\355\270\200"}]}' "$u1" >"$tap_tmp/cesu"
is "a surrogate pair encoded as UTF-8 (CESU-8)" "$(post_file /v2/bot/message/push "$tap_tmp/cesu")" '400 {"message":"The request body is not valid UTF-8"}'
printf '{"to":"%s","messages":[{"type":"text","text":"\300\257"}]}' "$u1" >"$tap_tmp/overlong"
is "an overlong /" "$(post_file /v2/bot/message/push "$tap_tmp/overlong")" '400 {"message":"The request body is not valid UTF-8"}'
printf '{"to":"%s","messages":[{"type":"text","text":"a\\u0000b"}]}' "$u1" >"$tap_tmp/nulesc"
is "an escaped NUL in text" "$(post_file /v2/bot/message/push "$tap_tmp/nulesc")" '400 {"message":"The request body has a NUL character"}'
printf '{"to":"%s","messages":[{"type":"text","text":"a\000b"}]}' "$u1" >"$tap_tmp/nulraw"
is "a raw NUL byte in text" "$(post_file /v2/bot/message/push "$tap_tmp/nulraw")" \
	'400 {"message":"The request body has a syntax error (line: 1, column: 78)"}'
printf '{"to":"%s","messages":[%s]}\000\000' "$u1" "$msg" >"$tap_tmp/nultail"
is "NULs after the JSON" "$(post_file /v2/bot/message/push "$tap_tmp/nultail")" \
	'400 {"message":"The request body has a syntax error (line: 1, column: 83)"}'
printf '{"type":"message","text":"\377"}' >"$tap_tmp/evlatin1"
is "control API: Latin-1 in a resident's text" "$(http POST "$U/sim/users/$u1/events" --data-binary "@$tap_tmp/evlatin1")" \
	'400 {"message":"The request body is not valid UTF-8"}'
is "%00 in a path does not cut it short" "$(get "/v2/bot/profile/$u1%00junk")" '404 {"message":"Not found"}'
is "%00 in a query argument does not cut it short" "$(get '/v2/bot/followers/ids?limit=5%00junk')" \
	'400 {"message":"The request has 1 error(s)","details":[{"message":"Must be between 1 and 1000","property":"limit"}]}'
is "%ff in a path is a 404" "$(get '/v2/bot/%ff%fe/%e9%81')" '404 {"message":"Not found"}'
out=$(curl -s "$U/sim/requests?since=0")
like "and the request log still lists it, as valid UTF-8" "$out" '"method":"GET","path":"/v2/bot/\?\?/\?\?","endpoint":"other","status":404'
get /v2/bot/info -H "$(printf 'X-Line-Retry-Key: \377\376')" >/dev/null
like "a retry key that is not UTF-8 is logged as valid UTF-8" "$(curl -s "$U/sim/requests?since=0")" '"path":"/v2/bot/info",[^}]*"retryKey":"\?\?"'
alive "bad bytes"

# --- enormous `to` arrays ------------------------------------------------------------------------
{ printf '{"to":['; repeat "\"$u1\"," 50000; printf '"%s"],"messages":[%s]}' "$u1" "$msg"; } >"$tap_tmp/to50k"
is "multicast to 50,001 ids" "$(post_file /v2/bot/message/multicast "$tap_tmp/to50k")" \
	'400 {"message":"The request body has 1 error(s)","details":[{"message":"Size must be between 1 and 500","property":"to"}]}'
{ printf '{"to":['; repeat '"x",' 499; printf '"x"],"messages":[%s]}' "$msg"; } >"$tap_tmp/to500bad"
out=$(post_file /v2/bot/message/multicast "$tap_tmp/to500bad")
like "500 bad ids: one detail each" "$out" '^400 \{"message":"The request body has 500 error\(s\)","details":\[\{"message":"Invalid user ID","property":"to\[0\]"\}'
like "the last names to[499]" "$out" '\{"message":"Invalid user ID","property":"to\[499\]"\}\]\}$'
{ printf '{"to":['; repeat '[[[{}]]],' 499; printf '1],"messages":[%s]}' "$msg"; } >"$tap_tmp/to500obj"
like "ids that are not strings" "$(post_file /v2/bot/message/multicast "$tap_tmp/to500obj")" '^400 \{"message":"The request body has 500 error\(s\)"'
is "push to an array" "$(post /v2/bot/message/push "{\"to\":[\"$u1\"],\"messages\":[$msg]}")" \
	'400 {"message":"The request body has 1 error(s)","details":[{"message":"Must be a string","property":"to"}]}'
is "multicast to an object" "$(post /v2/bot/message/multicast "{\"to\":{\"a\":1},\"messages\":[$msg]}")" \
	'400 {"message":"The request body has 1 error(s)","details":[{"message":"Must be an array","property":"to"}]}'
{ printf '{"richMenuId":"richmenu-00000000000000000000000000000000","userIds":['; repeat "\"$u1\"," 20000; printf '"%s"]}' "$u1"; } >"$tap_tmp/bulk"
like "rich menu bulk link with 20,001 ids" "$(post_file /v2/bot/richmenu/bulk/link "$tap_tmp/bulk")" '^4[0-9][0-9] \{"message":'
{ printf '{"userIds":['; repeat '"nope",' 1000; printf '"x"]}'; } >"$tap_tmp/simusers"
is "control API: residents with bad ids" "$(http POST "$U/sim/users" --data-binary "@$tap_tmp/simusers")" \
	'400 {"message":"a user id must match ^U[0-9a-f]{32}$"}'
is "nothing was delivered" "$(curl -s "$U/sim/users/$u1/inbox")" "{\"userId\":\"$u1\",\"following\":true,\"messages\":[]}"
alive "enormous arrays"

# --- path traversal in the phone view ---------------------------------------------------------
for p in '/../../etc/passwd' '/%2e%2e/%2e%2e/etc/passwd' '/%2e%2e%2f%2e%2e%2fetc%2fpasswd' \
	'/phone.css/../../../etc/passwd' '//etc/passwd' '/..%2f..%2fetc%2fpasswd' '/.%2e/.%2e/etc/passwd' \
	'/phone.js%00.css' '/index.html' '/www/phone.js' '/..\..\etc\passwd'; do
	is "GET $p is LINE's 404" "$(curl -s --path-as-is -w ' %{http_code}' "$U$p")" '{"message":"Not found"} 404'
done
is "POST / is not the phone view" "$(http POST "$U/" -d x)" '404 {"message":"Not found"}'
like "the phone view still works" "$(curl -s -o /dev/null -w '%{http_code} %{content_type}' "$U/phone.css")" '^200 text/css'
alive "path traversal"

# --- very long URLs and headers -------------------------------------------------------------------
long=$(repeat a 100000)
is "a 100 KB URL is 414" "$(status -H "$auth" "$U/v2/bot/info?x=$long")" 414
is "a 100 KB header is 431" "$(status -H "$auth" -H "X-Long: $long" "$U/v2/bot/info")" 431
is "a 100 KB Authorization header is 431" "$(status -H "Authorization: Bearer $long" "$U/v2/bot/info")" 431
i=0
: >"$tap_tmp/headers"
while [ $i -lt 2000 ]; do
	echo "X-H$i: v" >>"$tap_tmp/headers"
	i=$((i + 1))
done
is "2,000 headers are 431" "$(status -H "$auth" -H "@$tap_tmp/headers" "$U/v2/bot/info")" 431
is "a 4 KB profile id is LINE's 404" "$(get "/v2/bot/profile/U$(repeat 0 4096)")" '404 {"message":"Not found"}'
is "a 4 KB rich menu id" "$(get "/v2/bot/richmenu/richmenu-$(repeat 0 4096)")" '404 {"message":"Not found"}'
is "a 4 KB resident id on the control API" "$(http GET "$U/sim/users/U$(repeat 0 4096)/inbox")" \
	'404 {"message":"not found"}'
is "a 4 KB retry key" "$(post /v2/bot/message/push "$push_ok" -H "X-Line-Retry-Key: $(repeat 0 4096)")" \
	"400 {\"message\":\"The value for the 'X-Line-Retry-Key' header is invalid\"}"
like "the request log keeps long paths short" "$(curl -s "$U/sim/requests?since=0")" '"path":"/v2/bot/richmenu/richmenu-0+","endpoint":"richmenu"'
alive "long URLs and headers"

# --- retry keys that are not UUIDs --------------------------------------------------------------
for k in 42 '123e4567-e89b-12d3-a456-42661417400' '123e4567-e89b-12d3-a456-4266141740000' \
	'123e4567e89b12d3a456426614174000xxxx' '{123e4567-e89b-12d3-a456-426614174000}' \
	'123e4567-e89b-12d3-a456-42661417400g' 'zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz' '-'; do
	is "retry key '$k' is 400" "$(post /v2/bot/message/push "$push_ok" -H "X-Line-Retry-Key: $k")" \
		"400 {\"message\":\"The value for the 'X-Line-Retry-Key' header is invalid\"}"
done
is "an empty retry key is 400" "$(post /v2/bot/message/push "$push_ok" -H 'X-Line-Retry-Key;')" \
	"400 {\"message\":\"The value for the 'X-Line-Retry-Key' header is invalid\"}"
is "on multicast too" "$(post /v2/bot/message/multicast "{\"to\":[\"$u1\"],\"messages\":[$msg]}" -H 'X-Line-Retry-Key: nope')" \
	"400 {\"message\":\"The value for the 'X-Line-Retry-Key' header is invalid\"}"
is "nothing was delivered" "$(curl -s "$U/sim/users/$u1/inbox")" "{\"userId\":\"$u1\",\"following\":true,\"messages\":[]}"
alive "bad retry keys"

# --- limit and start on followers/ids ------------------------------------------------------------
limit_err='400 {"message":"The request has 1 error(s)","details":[{"message":"Must be between 1 and 1000","property":"limit"}]}'
for l in -1 0 1001 -9223372036854775808 99999999999999999999999 abc '' 1e3 '%205' '5%20' 0x10 '+5'; do
	is "limit=$l is 400" "$(get "/v2/bot/followers/ids?limit=$l")" "$limit_err"
done
like "limit=1000 is fine" "$(get '/v2/bot/followers/ids?limit=1000')" '^200 \{"userIds":\["U'
for s in n-1 x n99999999999999999999 n '' n1x; do
	is "start=$s is 400" "$(get "/v2/bot/followers/ids?start=$s")" '400 {"message":"Invalid start token"}'
done
alive "bad limits"

# --- unknown users --------------------------------------------------------------------------------
nobody=U0123456789abcdef0123456789abcdef
is "the profile of an unknown user is 404" "$(get "/v2/bot/profile/$nobody")" '404 {"message":"Not found"}'
is "of a malformed id, too" "$(get '/v2/bot/profile/U..%2f..%2fetc')" '404 {"message":"Not found"}'
is "push to an unknown user" "$(post /v2/bot/message/push "{\"to\":\"$nobody\",\"messages\":[$msg]}")" \
	'400 {"message":"Failed to send messages"}'
is "push to a malformed id" "$(post /v2/bot/message/push "{\"to\":\"U$(repeat A 32)\",\"messages\":[$msg]}")" \
	'400 {"message":"The request body has 1 error(s)","details":[{"message":"Invalid user ID","property":"to"}]}'
is "multicast skips unknown users" "$(post /v2/bot/message/multicast "{\"to\":[\"$nobody\"],\"messages\":[$msg]}")" '200 {}'
is "the loading animation for an unknown chat" "$(post /v2/bot/chat/loading/start "{\"chatId\":\"$nobody\"}")" \
	'400 {"message":"The request body has 1 error(s)","details":[{"message":"Not found","property":"chatId"}]}'
is "control API: an unknown resident's inbox" "$(http GET "$U/sim/users/$nobody/inbox")" '404 {"message":"no such simulated user"}'
is "a malformed resident id" "$(http GET "$U/sim/users/%2e%2e/inbox")" '400 {"message":"a user id must match ^U[0-9a-f]{32}$"}'
is "an unknown resident's event" "$(http POST "$U/sim/users/$nobody/events" -d '{"type":"message","text":"x"}')" \
	'404 {"message":"no such simulated user"}'
is "an unknown resident's LIFF token" "$(http POST "$U/sim/users/$nobody/liff-token" -d '{}')" \
	'404 {"message":"no such simulated user"}'
is "and no one got anything" "$(curl -s "$U/sim/users/$u1/inbox")" "{\"userId\":\"$u1\",\"following\":true,\"messages\":[]}"
like "a good push still works" "$(post /v2/bot/message/push "$push_ok")" '^200 \{"sentMessages":'
alive "unknown users"

# --- stop -------------------------------------------------------------------------------------------
kill -TERM "$pid"
wait "$pid"
is "SIGTERM stops linesim with status 0 (no leak report under ASan)" "$?" 0
unlike "no sanitizer report" "$(cat "$tap_tmp/linesim.log")" 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:'
unlike "no raw LINE user id is logged" "$(cat "$tap_tmp/linesim.log")" 'U[0-9a-f]{32}'

tap_done
