#!/bin/sh
# linesim, the local LINE Platform: LINE's authentication, validation and
# error shapes, retry keys, rate limits, faults, signed webhooks with
# redelivery, reply tokens, and the control API (docs/linesim.md).
. "$HL_TOP/tests/lib.sh"

port=$(free_port 1)
U="http://127.0.0.1:$port"
"$HL_BIN/linesim" -l "127.0.0.1:$port" --seed 7 --webhook-retries 2 --webhook-backoff-ms 20 \
	--webhook-timeout-ms 2000 --www "$HL_TOP/tools/linesim/www" >"$tap_tmp/linesim.out" 2>"$tap_tmp/linesim.log" &
pid=$!
if wait_http "$U/healthz"; then ok "linesim listens"; else not_ok "linesim listens" "$(cat "$tap_tmp/linesim.log")"; fi

# A string field of a JSON text (first occurrence; values without quotes).
jstr() {	# jstr NAME JSON
	printf '%s' "$2" | sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p" | head -n 1
}
jnum() {	# jnum NAME JSON
	printf '%s' "$2" | sed -n "s/.*\"$1\":\\(-\\{0,1\\}[0-9][0-9]*\\).*/\\1/p" | head -n 1
}
# POST JSON with the channel token: "STATUS BODY".
api() {	# api METHOD PATH [JSON] [CURL-ARGS...]
	m=$1
	p=$2
	d=${3:-}
	shift 2
	[ $# -eq 0 ] || shift
	if [ -n "$d" ]; then
		http "$m" "$U$p" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' --data-binary "$d" "$@"
	else
		http "$m" "$U$p" -H "Authorization: Bearer $token" "$@"
	fi
}
# Response headers of the last api call with -D.
hdr() {	# hdr NAME
	tr -d '\r' <"$tap_tmp/hdr" | sed -n "s/^$1: //Ip" | head -n 1
}
inbox_count() {	# inbox_count USER — messages in the inbox
	curl -s "$U/sim/users/$1/inbox" | grep -o '"endpoint":' | wc -l | tr -d ' '
}

# --- the channel -------------------------------------------------------------------
chan=$(curl -s "$U/sim/channel")
token=$(jstr channelAccessToken "$chan")
secret=$(jstr channelSecret "$chan")
like "the channel secret is 32 hex digits" "$secret" '^[0-9a-f]{32}$'
like "the credentials are printed on stdout as JSON" "$(head -n 1 "$tap_tmp/linesim.out")" "\"channelSecret\":\"$secret\""
like "the bot has a LINE user id" "$(jstr botUserId "$chan")" '^U[0-9a-f]{32}$'

# --- residents ----------------------------------------------------------------------
out=$(curl -s -X POST "$U/sim/users" -d '{"count":3,"silent":true}')
like "POST /sim/users creates residents with LINE user ids" "$out" '^\{"userIds":\["U[0-9a-f]{32}","U[0-9a-f]{32}","U[0-9a-f]{32}"\]'
u1=$(printf '%s' "$out" | sed 's/.*"userIds":\["\([^"]*\)","\([^"]*\)","\([^"]*\)".*/\1/')
u2=$(printf '%s' "$out" | sed 's/.*"userIds":\["\([^"]*\)","\([^"]*\)","\([^"]*\)".*/\2/')
u3=$(printf '%s' "$out" | sed 's/.*"userIds":\["\([^"]*\)","\([^"]*\)","\([^"]*\)".*/\3/')
like "a count out of range is refused" "$(http POST "$U/sim/users" -d '{"count":0}')" '^400 '

# --- authentication ------------------------------------------------------------------
push1="{\"to\":\"$u1\",\"messages\":[{\"type\":\"text\",\"text\":\"hello\"}]}"
is "no Authorization header is 401 with LINE's message" "$(http POST "$U/v2/bot/message/push" -d "$push1")" \
	"401 {\"message\":\"Authorization header required. Must follow the scheme, 'Authorization: Bearer <ACCESS TOKEN>'\"}"
is "a wrong token is 401" "$(http POST "$U/v2/bot/message/push" -H 'Authorization: Bearer nope' -d "$push1")" \
	'401 {"message":"Authentication failed. Confirm that the access token in the authorization header is valid."}'

# --- push and multicast ----------------------------------------------------------------
out=$(api POST /v2/bot/message/push "$push1" -D "$tap_tmp/hdr")
like "push is accepted with sentMessages" "$out" '^200 \{"sentMessages":\[\{"id":"[0-9]{18}","quoteToken":"[0-9a-f]+"\}\]\}$'
rid=$(hdr x-line-request-id)
like "an accepted request has x-line-request-id" "$rid" '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'
like "the message is in the resident's inbox with endpoint and request id" "$(curl -s "$U/sim/users/$u1/inbox")" \
	"\"messages\":\\[\\{\"endpoint\":\"push\",\"requestId\":\"$rid\",\"timestamp\":[0-9]+,\"message\":\\{\"type\":\"text\",\"text\":\"hello\"\\}\\}\\]"
is "multicast is 200 {}" "$(api POST /v2/bot/message/multicast "{\"to\":[\"$u1\",\"$u2\",\"$u2\"],\"messages\":[{\"type\":\"sticker\",\"packageId\":\"446\",\"stickerId\":\"1988\"}]}")" '200 {}'
is "multicast reached the first resident" "$(inbox_count "$u1")" 2
is "a repeated id gets one copy" "$(inbox_count "$u2")" 1
is "push to an unknown resident fails as LINE" "$(api POST /v2/bot/message/push '{"to":"U00000000000000000000000000000000","messages":[{"type":"text","text":"x"}]}')" \
	'400 {"message":"Failed to send messages"}'

# --- validation, in LINE's error shape -------------------------------------------------
long=$(head -c 5001 /dev/zero | tr '\0' 'a')
is "text over 5000 characters" "$(api POST /v2/bot/message/push "{\"to\":\"$u1\",\"messages\":[{\"type\":\"text\",\"text\":\"$long\"}]}")" \
	'400 {"message":"The request body has 1 error(s)","details":[{"message":"Length must be between 0 and 5000","property":"messages[0].text"}]}'
# 2500 emoji are 5000 UTF-16 code units (LINE's count): allowed; 2501 are not.
emoji=$(printf '\360\237\230\200')
e2500=$(i=0; while [ $i -lt 2500 ]; do printf '%s' "$emoji"; i=$((i + 1)); done)
like "2500 emoji are exactly 5000 UTF-16 units" "$(api POST /v2/bot/message/push "{\"to\":\"$u3\",\"messages\":[{\"type\":\"text\",\"text\":\"$e2500\"}]}")" '^200 '
like "2501 emoji are too many" "$(api POST /v2/bot/message/push "{\"to\":\"$u3\",\"messages\":[{\"type\":\"text\",\"text\":\"$e2500$emoji\"}]}")" \
	'^400 .*"property":"messages\[0\]\.text"'
ids=$(i=0; while [ $i -lt 501 ]; do printf '"U%032x",' "$i"; i=$((i + 1)); done)
is "501 multicast recipients" "$(api POST /v2/bot/message/multicast "{\"to\":[${ids%,}],\"messages\":[{\"type\":\"text\",\"text\":\"x\"}]}")" \
	'400 {"message":"The request body has 1 error(s)","details":[{"message":"Size must be between 1 and 500","property":"to"}]}'
one='{"type":"text","text":"x"}'
is "six messages" "$(api POST /v2/bot/message/push "{\"to\":\"$u1\",\"messages\":[$one,$one,$one,$one,$one,$one]}")" \
	'400 {"message":"The request body has 1 error(s)","details":[{"message":"Size must be between 1 and 5","property":"messages"}]}'
is "an unknown message type" "$(api POST /v2/bot/message/push "{\"to\":\"$u1\",\"messages\":[{\"type\":\"telegram\"}]}")" \
	'400 {"message":"The request body has 1 error(s)","details":[{"message":"Must be one of the following values: [text, image, video, audio, location, sticker, template, imagemap, flex]","property":"messages[0].type"}]}'
like "a flex message needs altText and contents" "$(api POST /v2/bot/message/push "{\"to\":\"$u1\",\"messages\":[{\"type\":\"flex\"}]}")" \
	'^400 \{"message":"The request body has 2 error\(s\)","details":\[\{"message":"May not be empty","property":"messages\[0\]\.altText"\},\{"message":"May not be empty","property":"messages\[0\]\.contents"\}\]\}$'
like "an image must be https" "$(api POST /v2/bot/message/push "{\"to\":\"$u1\",\"messages\":[{\"type\":\"image\",\"originalContentUrl\":\"http://x/a.jpg\",\"previewImageUrl\":\"https://x/b.jpg\"}]}")" \
	'"Must be a valid HTTPS URL","property":"messages\[0\]\.originalContentUrl"'
like "a syntax error is 400" "$(api POST /v2/bot/message/push '{"to":')" '^400 \{"message":"The request body has a syntax error'
is "nothing invalid was delivered" "$(inbox_count "$u1")" 2

# --- retry keys -------------------------------------------------------------------------
key=123e4567-e89b-12d3-a456-426614174000
out=$(api POST /v2/bot/message/push "$push1" -D "$tap_tmp/hdr" -H "X-Line-Retry-Key: $key")
first=$(hdr x-line-request-id)
like "a push with a retry key is accepted" "$out" '^200 '
out=$(api POST /v2/bot/message/push "$push1" -D "$tap_tmp/hdr" -H "X-Line-Retry-Key: $key")
is "the same retry key again is 409" "$out" '409 {"message":"The retry key is already accepted"}'
is "with x-line-accepted-request-id naming the first request" "$(hdr x-line-accepted-request-id)" "$first"
is "and the message was not delivered twice" "$(inbox_count "$u1")" 3
like "a retry key that is not a UUID is 400" "$(api POST /v2/bot/message/push "$push1" -H 'X-Line-Retry-Key: 42')" \
	"^400 \\{\"message\":\"The value for the 'X-Line-Retry-Key' header is invalid\"\\}"
like "the request log shows the retry key and recipients" "$(curl -s "$U/sim/requests?since=0")" \
	"\"path\":\"/v2/bot/message/push\",\"endpoint\":\"push\",\"status\":409,\"recipients\":0,\"retryKey\":\"$key\""

# --- rate limits --------------------------------------------------------------------------
i=0
codes=""
while [ $i -lt 60 ]; do
	c=$(api POST /v2/bot/message/broadcast '{"messages":[{"type":"text","text":"b"}]}' | cut -c1-3)
	[ "$c" = 200 ] || codes="$codes $c"
	i=$((i + 1))
done
is "60 broadcasts in an hour are accepted" "$codes" ""
out=$(api POST /v2/bot/message/broadcast '{"messages":[{"type":"text","text":"b"}]}' -D "$tap_tmp/hdr")
is "the 61st is 429 with LINE's message" "$out" '429 {"message":"The API rate limit has been exceeded. Try again later."}'
is "without Retry-After" "$(hdr retry-after)" ""
is "broadcast reached every follower" "$(inbox_count "$u2")" 61

# --- faults -------------------------------------------------------------------------------
like "a fault is set" "$(http POST "$U/sim/faults" -d '{"path":"/v2/bot/message/push","status":500,"ratio":1.0}')" '^200 \{"faults":\[\{"path":"/v2/bot/message/push","status":500'
like "push now fails with 500" "$(api POST /v2/bot/message/push "$push1")" '^500 \{"message":'
is "DELETE /sim/faults clears it" "$(http DELETE "$U/sim/faults")" '200 {"faults":[]}'
like "push works again" "$(api POST /v2/bot/message/push "$push1")" '^200 '
# An answer lost after LINE accepted the request: the retry key makes the
# client's retry safe.
key2=123e4567-e89b-12d3-a456-426614174001
http POST "$U/sim/faults" -d '{"path":"/v2/bot/message/push","status":500,"accepted":true}' >/dev/null
n=$(inbox_count "$u1")
like "an accepted-then-lost push answers 500" "$(api POST /v2/bot/message/push "$push1" -H "X-Line-Retry-Key: $key2")" '^500 '
is "but it was delivered" "$(inbox_count "$u1")" $((n + 1))
http DELETE "$U/sim/faults" >/dev/null
like "the client's retry with the same key is 409" "$(api POST /v2/bot/message/push "$push1" -H "X-Line-Retry-Key: $key2")" '^409 '
is "and delivers nothing twice" "$(inbox_count "$u1")" $((n + 1))

# --- webhooks: signature, events, reply tokens ---------------------------------------------
like "the webhook URL is set with PUT /sim/channel" "$(http PUT "$U/sim/channel" -d "{\"webhookUrl\":\"$U/sim/echo\"}")" "\"webhookUrl\":\"$U/sim/echo\""
out=$(http POST "$U/sim/users/$u1/events" -d '{"type":"message","text":"避難所はどこ"}')
like "a resident's message reaches the webhook" "$out" '^200 \{"webhookStatus":200,"attempts":1,"error":null,"replyToken":"[0-9a-f]{32}"'
rtoken=$(jstr replyToken "$out")
curl -s -D "$tap_tmp/hdr" -o "$tap_tmp/wbody" "$U/sim/echo/last"
sig=$(hdr x-line-signature)
want=$(openssl dgst -sha256 -hmac "$secret" -binary <"$tap_tmp/wbody" | base64)
is "X-Line-Signature is base64(HMAC-SHA256(channel secret, body))" "$sig" "$want"
body=$(cat "$tap_tmp/wbody")
like "the event has LINE's fields" "$body" \
	"^\\{\"destination\":\"U[0-9a-f]{32}\",\"events\":\\[\\{\"type\":\"message\",\"webhookEventId\":\"[0-9A-HJKMNP-TV-Z]{26}\",\"deliveryContext\":\\{\"isRedelivery\":false\\},\"timestamp\":[0-9]{13},\"source\":\\{\"type\":\"user\",\"userId\":\"$u1\"\\},\"mode\":\"active\",\"replyToken\":\"$rtoken\",\"message\":\\{\"type\":\"text\",\"id\":\"[0-9]{18}\",\"quoteToken\":\"[0-9a-f]+\",\"text\":\"避難所はどこ\"\\}\\}\\]\\}$"
like "a reply with the token is accepted" "$(api POST /v2/bot/message/reply "{\"replyToken\":\"$rtoken\",\"messages\":[{\"type\":\"text\",\"text\":\"市役所です\"}]}")" '^200 \{"sentMessages"'
is "a reply token is single-use" "$(api POST /v2/bot/message/reply "{\"replyToken\":\"$rtoken\",\"messages\":[{\"type\":\"text\",\"text\":\"again\"}]}")" \
	'400 {"message":"Invalid reply token"}'
like "the reply is in the inbox" "$(curl -s "$U/sim/users/$u1/inbox")" '"endpoint":"reply","requestId":"[0-9a-f-]{36}","timestamp":[0-9]+,"message":\{"type":"text","text":"市役所です"\}'
out=$(http POST "$U/sim/users/$u1/events" -d '{"type":"location","latitude":35.68,"longitude":139.76,"title":"自宅"}')
like "a location event" "$out" '"message":\{"type":"location","id":"[0-9]{18}","title":"自宅","latitude":35.68[0-9]*,"longitude":139.76'
like "a postback event" "$(http POST "$U/sim/users/$u1/events" -d '{"type":"postback","data":"area=3"}')" '"postback":\{"data":"area=3"\}'
like "an unknown event type is 400" "$(http POST "$U/sim/users/$u1/events" -d '{"type":"dance"}')" '^400 '

# --- redelivery ---------------------------------------------------------------------------------
http PUT "$U/sim/channel" -d "{\"webhookUrl\":\"$U/sim/echo?status=500\"}" >/dev/null
seq0=$(curl -s "$U/sim/webhooks" | grep -o '"seq":[0-9]*' | tail -n 1 | cut -d: -f2)
out=$(http POST "$U/sim/users/$u1/events" -d '{"type":"message","text":"retry"}')
like "a 500 answer is redelivered, a bounded number of times" "$out" '^200 \{"webhookStatus":500,"attempts":3,"error":"the webhook answered 500"'
hooks=$(curl -s "$U/sim/webhooks?since=$seq0")
is "three attempts are logged" "$(printf '%s' "$hooks" | grep -o '"attempt":' | wc -l | tr -d ' ')" 3
like "redeliveries say isRedelivery:true" "$hooks" '"attempt":2,"isRedelivery":true.*isRedelivery\\":true'
ev1=$(printf '%s' "$hooks" | grep -o 'webhookEventId\\":\\"[0-9A-Z]*' | sort -u | wc -l | tr -d ' ')
is "with the same webhookEventId" "$ev1" 1
dead=$(free_port 2)
http PUT "$U/sim/channel" -d "{\"webhookUrl\":\"http://127.0.0.1:$dead/callback\"}" >/dev/null
like "a refused connection is retried too" "$(http POST "$U/sim/users/$u1/events" -d '{"type":"message","text":"x"}')" \
	'^200 \{"webhookStatus":0,"attempts":3,"error":"'

# --- follow batches, unfollow ------------------------------------------------------------------
http PUT "$U/sim/channel" -d "{\"webhookUrl\":\"$U/sim/echo\"}" >/dev/null
out=$(curl -s -X POST "$U/sim/users" -d '{"count":250}')
like "250 follows take 3 webhook requests, not 250" "$out" '"webhook":\{"requests":3,"failed":0,"lastStatus":200\}'
like "follow events carry a reply token and follow.isUnblocked" "$(curl -s "$U/sim/echo/last")" '"replyToken":"[0-9a-f]{32}","follow":\{"isUnblocked":false\}'
like "unfollow" "$(http POST "$U/sim/users/$u3/events" -d '{"type":"unfollow"}')" '^200 \{"webhookStatus":200,"attempts":1,"error":null,"replyToken":null'
n=$(inbox_count "$u3")
like "push to a resident who blocked is 200" "$(api POST /v2/bot/message/push "{\"to\":\"$u3\",\"messages\":[$one]}")" '^200 '
is "but delivers nothing" "$(inbox_count "$u3")" "$n"
is "and their profile is 404" "$(api GET "/v2/bot/profile/$u3")" '404 {"message":"Not found"}'
like "a follower's profile" "$(api GET "/v2/bot/profile/$u1")" "^200 \\{\"displayName\":\"住民[0-9]+\",\"userId\":\"$u1\",\"language\":\"ja\"\\}$"
like "follow again: isUnblocked" "$(http POST "$U/sim/users/$u3/events" -d '{"type":"follow"}')" '"follow":\{"isUnblocked":true\}'

# --- the other Messaging API endpoints -----------------------------------------------------
out=$(api GET "/v2/bot/followers/ids?limit=2")
like "followers/ids pages with next" "$out" '^200 \{"userIds":\["U[0-9a-f]{32}","U[0-9a-f]{32}"\],"next":"[^"]+"\}$'
like "the next page continues" "$(api GET "/v2/bot/followers/ids?limit=1000&start=$(jstr next "$out")")" '^200 \{"userIds":\["U'
is "quota: none by default" "$(api GET /v2/bot/message/quota)" '200 {"type":"none"}'
like "consumption counts recipient messages" "$(api GET /v2/bot/message/quota/consumption)" '^200 \{"totalUsage":[0-9]+\}$'
like "bot info" "$(api GET /v2/bot/info)" '^200 \{"userId":"U[0-9a-f]{32}","basicId":"@linesim"'
is "loading animation" "$(api POST /v2/bot/chat/loading/start "{\"chatId\":\"$u1\",\"loadingSeconds\":5}")" '202 {}'
like "loading seconds must be a multiple of 5" "$(api POST /v2/bot/chat/loading/start "{\"chatId\":\"$u1\",\"loadingSeconds\":7}")" '^400 .*"property":"loadingSeconds"'
out=$(api POST /v2/bot/message/narrowcast '{"messages":[{"type":"text","text":"n"}],"limit":{"max":10}}' -D "$tap_tmp/hdr")
is "narrowcast is 202" "$out" '202 {}'
like "its progress" "$(api GET "/v2/bot/message/progress/narrowcast?requestId=$(hdr x-line-request-id)")" \
	'^200 \{"phase":"succeeded","successCount":10,"failureCount":0,"targetCount":10,'
is "an unknown path is LINE's 404" "$(api GET /v2/bot/nope)" '404 {"message":"Not found"}'
like "stats count per endpoint and status" "$(curl -s "$U/sim/stats")" '"broadcast":\{("200":60,"429":1|"429":1,"200":60)\}'


# --- the other sends' helpers: validate, delivery statistics -------------------------------------
is "validate/push checks messages without sending" "$(api POST /v2/bot/message/validate/push '{"messages":[{"type":"text","text":"ok"}]}')" '200 {}'
like "validate/push refuses what push refuses" "$(api POST /v2/bot/message/validate/push '{"messages":[{"type":"sticker"}]}')" '^400 .*"property":"messages\[0\]\.packageId"'
today=$(TZ=Asia/Tokyo date +%Y%m%d)
like "delivery statistics count today's broadcast recipients" "$(api GET "/v2/bot/message/delivery/broadcast?date=$today")" '^200 \{"status":"ready","success":[1-9][0-9]*\}$'
like "a bad date is 400" "$(api GET "/v2/bot/message/delivery/push?date=2026-11-25")" '^400 .*"property":"date"'

# --- LIFF ID tokens ---------------------------------------------------------------------------
out=$(http POST "$U/sim/users/$u1/liff-token" -d '{"nonce":"n-123"}')
like "a LIFF ID token is issued for a resident" "$out" '^200 \{"idToken":"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+"\}$'
idt=$(jstr idToken "$out")
login=$(jstr loginChannelId "$chan")
like "and LINE Login's verify accepts it for that resident" "$(http POST "$U/oauth2/v2.1/verify" --data-urlencode "id_token=$idt" --data-urlencode "client_id=$login" --data-urlencode "nonce=n-123")" \
	"^200 .*\"sub\":\"$u1\""

# --- rich menu taps ---------------------------------------------------------------------------
# A PNG's signature and IHDR are what LINE (and linesim) read for the size: 2500x843.
printf '\211PNG\r\n\032\n\000\000\000\015IHDR\000\000\011\304\000\000\003\113\010\006\000\000\000\000\000\000\000' >"$tap_tmp/menu.png"
menu='{"size":{"width":2500,"height":843},"selected":false,"name":"m","chatBarText":"メニュー","areas":[
 {"bounds":{"x":0,"y":0,"width":800,"height":843},"action":{"type":"postback","data":"menu=1"}},
 {"bounds":{"x":800,"y":0,"width":800,"height":843},"action":{"type":"uri","uri":"https://example.jp/"}},
 {"bounds":{"x":1600,"y":0,"width":900,"height":843},"action":{"type":"richmenuswitch","richMenuAliasId":"tab-b","data":"tab=b"}}]}'
rm1=$(jstr richMenuId "$(api POST /v2/bot/richmenu "$menu")")
rm2=$(jstr richMenuId "$(api POST /v2/bot/richmenu "$(printf '%s' "$menu" | sed 's/"name":"m"/"name":"b"/')")")
for r in "$rm1" "$rm2"; do
	curl -s -o /dev/null -X POST "$U/v2/bot/richmenu/$r/content" -H "Authorization: Bearer $token" -H 'Content-Type: image/png' --data-binary "@$tap_tmp/menu.png"
done
api POST /v2/bot/richmenu/alias "{\"richMenuAliasId\":\"tab-b\",\"richMenuId\":\"$rm2\"}" >/dev/null
like "a rich menu is linked to a resident" "$(api POST "/v2/bot/user/$u1/richmenu/$rm1")" '^200 '
like "the control API shows it" "$(curl -s "$U/sim/users/$u1/richmenu")" "\"richMenuId\":\"$rm1\""
like "tapping a postback area sends a postback event" "$(http POST "$U/sim/users/$u1/events" -d '{"type":"richmenu_tap","x":100,"y":100}')" \
	'^200 \{"webhookStatus":200,.*"postback":\{"data":"menu=1"\}'
like "a uri area sends nothing" "$(http POST "$U/sim/users/$u1/events" -d '{"type":"richmenu_tap","x":900,"y":100}')" \
	'^200 \{"webhookStatus":0,"attempts":0,"error":null,"replyToken":null,"event":null'
like "a richmenuswitch area posts back the new alias" "$(http POST "$U/sim/users/$u1/events" -d '{"type":"richmenu_tap","x":2000,"y":100}')" \
	'"postback":\{"data":"tab=b","params":\{"newRichMenuAliasId":"tab-b","status":"SUCCESS"\}\}'
like "and switches the resident's menu" "$(curl -s "$U/sim/users/$u1/richmenu")" "\"richMenuId\":\"$rm2\",\"richMenuAliasId\":\"tab-b\""

# --- the phone view ---------------------------------------------------------------------------
is "GET / serves the phone view" "$(curl -s -o /dev/null -w '%{http_code} %{content_type}' "$U/")" "200 text/html; charset=utf-8"
like "the page is the LINE chat view" "$(curl -s "$U/")" '<title>linesim'
is "only its own files are served" "$(curl -s -o /dev/null -w '%{http_code}' "$U/index.html")" 404

# --- reset and stop ---------------------------------------------------------------------------
is "reset" "$(http POST "$U/sim/reset")" '200 {}'
like "forgets the residents" "$(curl -s "$U/sim/stats")" '"users":0,"followers":0'
is "their inboxes are gone" "$(http GET "$U/sim/users/$u1/inbox")" '404 {"message":"no such simulated user"}'
kill -TERM "$pid"
wait "$pid"
is "SIGTERM stops linesim with status 0" "$?" 0
log=$(cat "$tap_tmp/linesim.log")
like "the stop is logged" "$log" 'level=info prog=linesim msg=stopping signal=15'
unlike "no raw LINE user id is logged" "$log" 'U[0-9a-f]{32}'

tap_done
