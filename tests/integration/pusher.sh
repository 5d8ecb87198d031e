#!/bin/sh
# hotline-pusher against linesim (LINE's rate limits on): segment fan-out
# correctness over a few hundred residents with varied settings (each
# inbox holds exactly what an independent SQL oracle says), test
# deliveries, particular residents, scheduled and cancelled sends, a target
# that cannot be resolved, broadcast and its fall-back to multicast, the
# monthly quota, kill -9 mid fan-out (repeatedly) with answers lost after
# LINE accepted them, and faults: 500s, a 429 storm, slow answers beyond the
# timeout, LINE down for a while.  Everyone gets each delivery once.
. "$HL_TOP/tests/lib.sh"

port=$(free_port 1)
U="http://127.0.0.1:$port"
"$HL_BIN/linesim" -l "127.0.0.1:$port" --seed 11 --inbox-max 1000 --threads 16 \
	>"$tap_tmp/linesim.out" 2>"$tap_tmp/linesim.log" &
simpid=$!
if wait_http "$U/healthz"; then ok "linesim listens"; else not_ok "linesim listens" "$(cat "$tap_tmp/linesim.log")"; fi
token=$(sed -n 's/.*"channelAccessToken":"\([^"]*\)".*/\1/p' "$tap_tmp/linesim.out")

db=$(db_new)
mport=$(free_port 2)
conf=$(conf_for "$db" "[line]
api_base_url = $U
request_timeout_ms = 1000
[pusher]
metrics_listen = 127.0.0.1:$mport
retry_base_ms = 50
retry_max_ms = 400
broadcasts_per_hour = 0")
check "migrate" ctl "$conf" migrate
log="$tap_tmp/pusher.log"

# start [CONF] — a pusher in the background, its pid in $ppid.
start() {
	HOTLINE_LINE_CHANNEL_TOKEN=$token "$HL_BIN/hotline-pusher" -c "${1:-$conf}" 2>>"$log" &
	ppid=$!
}
stop() {
	kill -TERM "$ppid" 2>/dev/null
	wait "$ppid"
	pstatus=$?
}

# wait_done IDS... — until those deliveries are finished (60 s at most).
wait_done() {
	list=$(echo "$*" | tr ' ' ',')
	i=0
	while [ $i -lt 600 ]; do
		left=$(sql "$db" "SELECT count(*) FROM deliveries WHERE id IN ($list)
			AND status NOT IN ('done', 'failed', 'held', 'cancelled')")
		[ "$left" = 0 ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# queue MARKER EVERYONE TARGET [STATUS] [SEND_AT] — a delivery whose text is
# MARKER; prints its id.
queue() {
	sql "$db" "INSERT INTO deliveries (source, title, messages, everyone, target, status, send_at)
		VALUES ('system', '$1', '[{\"type\":\"text\",\"text\":\"$1\"}]', $2,
			${3:-NULL}, '${4:-queued}', ${5:-NULL}) RETURNING id"
}

# inbox_markers FILE — "userId marker marker…" per resident, from every
# inbox (one curl run over a keep-alive connection).
inbox_markers() {
	sql "$db" "SELECT 'url = \"$U/sim/users/' || line_user_id || '/inbox\"' FROM residents ORDER BY id" \
		>"$tap_tmp/urls"
	# One "userId marker" line per message (and one "userId" line per
	# inbox, so that empty inboxes show), sorted, then grouped per resident.
	{ curl -s -K "$tap_tmp/urls"; echo; } | sed 's/{"userId":"/\n/g' |
		awk 'NF { uid = substr($0, 1, 33); print uid; rest = $0
			while (match(rest, /"text":"M[0-9A-Za-z_]*"/)) {
				print uid, substr(rest, RSTART + 8, RLENGTH - 9)
				rest = substr(rest, RSTART + RLENGTH) } }' |
		sort | group >"$1"
}
# group — sorted "uid [marker]" lines to one "uid marker marker…" per uid.
group() {
	awk '{ if ($1 != cur) { if (cur != "") print line; cur = $1; line = $1 }
		if (NF > 1) line = line " " $2 } END { if (cur != "") print line }'
}

# --- residents with varied settings --------------------------------------------
ids=$(curl -s -X POST "$U/sim/users" -d '{"count":400,"silent":true}' | grep -oE 'U[0-9a-f]{32}')
is "linesim has 400 residents" "$(echo "$ids" | wc -l | tr -d ' ')" 400
echo "$ids" | sql "$db" "COPY residents (line_user_id) FROM STDIN"
# n = position by id (1..400); settings are functions of n.
check "residents choose regions, categories, gender, children" sql "$db" "
	CREATE TEMP TABLE n AS SELECT id, row_number() OVER (ORDER BY id) AS n FROM residents;
	UPDATE residents r SET status = 'blocked', blocked_at = now() FROM n WHERE n.id = r.id AND n.n % 23 = 0;
	UPDATE residents r SET is_tester = true FROM n WHERE n.id = r.id AND n.n IN (1, 2);
	INSERT INTO resident_choices (resident_id, value_id)
	SELECT n.id, v.id FROM n JOIN segment_values v ON true JOIN segment_items i ON i.id = v.item_id
	 WHERE (i.key = 'region' AND n.n % 8 <> 0 AND (v.position = (n.n % 8) * 10
		OR (n.n % 5 = 0 AND v.position = ((n.n + 3) % 7 + 1) * 10)))
	    OR (i.key = 'category' AND n.n % 3 <> 0 AND v.position IN ((n.n % 10 + 1) * 10, ((n.n + 4) % 10 + 1) * 10))
	    OR (i.key = 'gender' AND n.n % 4 <> 0 AND v.position = (n.n % 4) * 10)
	ON CONFLICT DO NOTHING;
	INSERT INTO resident_dates (resident_id, item_id, value)
	SELECT n.id, i.id, (current_date - make_interval(years => (n.n % 12)::integer))::date - 10
	  FROM n JOIN segment_items i ON i.key = 'child_birthdate' WHERE n.n % 6 = 0;
	INSERT INTO resident_dates (resident_id, item_id, value)
	SELECT n.id, i.id, (current_date - make_interval(years => 15))::date + 3
	  FROM n JOIN segment_items i ON i.key = 'child_birthdate' WHERE n.n % 12 = 0"
is "some residents blocked, two testers" \
	"$(sql "$db" "SELECT count(*) FILTER (WHERE status = 'blocked') || ' ' || count(*) FILTER (WHERE is_tester) FROM residents")" "17 2"

# --- the deliveries ----------------------------------------------------------------
r5=$(sql "$db" "SELECT id FROM residents ORDER BY id OFFSET 4 LIMIT 1")
r6=$(sql "$db" "SELECT id FROM residents ORDER BY id OFFSET 5 LIMIT 1")
r23=$(sql "$db" "SELECT id FROM residents ORDER BY id OFFSET 22 LIMIT 1")
d1=$(queue M1 true "")
d2=$(queue M2 false "'{\"all\":[{\"item\":\"region\",\"any\":[\"kurabuchi\"]}]}'")
d3=$(queue M3 false "'{\"all\":[{\"item\":\"region\",\"any\":[\"haruna\",\"shinmachi\"]},{\"item\":\"category\",\"any\":[\"disaster\"]}]}'")
d4=$(queue M4 false "'{\"any\":[{\"item\":\"gender\",\"any\":[\"female\"]},{\"item\":\"child_birthdate\",\"age_between\":[0,6]}]}'")
d5=$(queue M5 false "'{\"not\":{\"item\":\"region\",\"any\":[\"kyu_takasaki\"]}}'")
d6=$(sql "$db" "INSERT INTO deliveries (source, title, messages, everyone, is_test, status)
	VALUES ('system', 'M6', '[{\"type\":\"text\",\"text\":\"M6\"}]', true, true, 'queued') RETURNING id")
d7=$(queue M7 false "'{\"residents\":[$r5,$r6,$r23]}'")
d8=$(queue M8 false "'{\"all\":[{\"item\":\"age_band\",\"any\":[\"twenties\"]}]}'")
d9=$(queue M9 false "'{\"all\":[{\"item\":\"favourite_food\",\"any\":[\"ramen\"]}]}'")
dsched=$(queue M10 true "" scheduled "now() + interval '3 seconds'")
dcancel=$(queue M11 true "" scheduled "now() + interval '2 seconds'")
check "a scheduled delivery is cancelled before it starts" \
	sql "$db" "UPDATE deliveries SET status = 'cancelled', cancelled_at = now() WHERE id = $dcancel"

start
if wait_http "http://127.0.0.1:$mport/healthz"; then ok "the pusher serves /healthz"; else not_ok "the pusher serves /healthz" "$(cat "$log")"; fi
check "the immediate deliveries finish" wait_done "$d1" "$d2" "$d3" "$d4" "$d5" "$d6" "$d7" "$d8" "$d9"
is "the scheduled one has not started before its time" \
	"$(sql "$db" "SELECT status FROM deliveries WHERE id = $dsched")" "scheduled"
sleep 3.5
check "the scheduled delivery is sent at its time" wait_done "$dsched"
is "and not before" "$(sql "$db" "SELECT started_at >= send_at FROM deliveries WHERE id = $dsched")" "t"

# The oracle: who should have what, written without target_sql().
sql "$db" "
WITH a AS (
  SELECT r.id, r.line_user_id, r.status = 'active' AS active, r.is_tester,
    EXISTS (SELECT 1 FROM resident_choices c JOIN segment_items i ON i.id = c.item_id
            WHERE c.resident_id = r.id AND i.key = 'region') AS has_region,
    ARRAY(SELECT v.key FROM resident_choices c JOIN segment_values v ON v.id = c.value_id
          JOIN segment_items i ON i.id = v.item_id WHERE c.resident_id = r.id AND i.key = 'region') AS regions,
    EXISTS (SELECT 1 FROM resident_choices c JOIN segment_items i ON i.id = c.item_id
            WHERE c.resident_id = r.id AND i.key = 'category') AS has_category,
    ARRAY(SELECT v.key FROM resident_choices c JOIN segment_values v ON v.id = c.value_id
          JOIN segment_items i ON i.id = v.item_id WHERE c.resident_id = r.id AND i.key = 'category') AS categories,
    (SELECT v.key FROM resident_choices c JOIN segment_values v ON v.id = c.value_id
       JOIN segment_items i ON i.id = v.item_id WHERE c.resident_id = r.id AND i.key = 'gender') AS gender,
    EXISTS (SELECT 1 FROM resident_dates d WHERE d.resident_id = r.id
            AND date_part('year', age(current_date, d.value)) BETWEEN 0 AND 6) AS young_child
  FROM residents r)
SELECT line_user_id || rtrim(' ' || concat_ws(' ',
  CASE WHEN active THEN 'M1' END,
  CASE WHEN active AND (NOT has_region OR 'kurabuchi' = ANY (regions)) THEN 'M2' END,
  CASE WHEN active AND (NOT has_region OR regions && ARRAY['haruna', 'shinmachi'])
            AND (NOT has_category OR 'disaster' = ANY (categories)) THEN 'M3' END,
  CASE WHEN active AND (gender = 'female' OR young_child) THEN 'M4' END,
  CASE WHEN active AND has_region AND NOT 'kyu_takasaki' = ANY (regions) THEN 'M5' END,
  CASE WHEN active AND is_tester THEN 'M6' END,
  CASE WHEN active AND id IN ($r5, $r6, $r23) THEN 'M7' END,
  CASE WHEN active THEN 'M10' END))
FROM a ORDER BY line_user_id" | sed 's/ *$//' | sort >"$tap_tmp/expected"
# Markers sort as text (M1 M10 M2 ...), as the inbox side does.
awk '{ print $1; for (i = 2; i <= NF; i++) print $1, $i }' "$tap_tmp/expected" | sort | group \
	>"$tap_tmp/expected.sorted"
inbox_markers "$tap_tmp/got"
is "every resident's inbox holds exactly the deliveries their settings call for" \
	"$(diff "$tap_tmp/expected.sorted" "$tap_tmp/got" | head -n 20)" ""
variety=$(cut -d' ' -f2- "$tap_tmp/expected.sorted" | sort -u | wc -l)
check "the oracle is not trivial (at least 10 different sets of deliveries)" [ "$variety" -ge 10 ]
is "figures: targeted = accepted for each delivery, nothing failed" \
	"$(sql "$db" "SELECT count(*) FROM deliveries WHERE id IN ($d1,$d2,$d3,$d4,$d5,$d6,$d7,$d8,$dsched)
		AND (status <> 'done' OR targeted <> accepted OR failed <> 0 OR finished_at IS NULL)")" "0"
is "a segment nobody chose is done with nobody targeted" \
	"$(sql "$db" "SELECT status || ' ' || targeted FROM deliveries WHERE id = $d8")" "done 0"
is "the blocked resident among particular residents is skipped" \
	"$(sql "$db" "SELECT targeted FROM deliveries WHERE id = $d7")" "2"
is "a test delivery reaches the two testers only" \
	"$(sql "$db" "SELECT targeted FROM deliveries WHERE id = $d6")" "2"
like "an unknown segment item fails the delivery with the reason" \
	"$(sql "$db" "SELECT status || ': ' || error FROM deliveries WHERE id = $d9")" \
	'^failed: 配信対象を決められませんでした: .*unknown segment item "favourite_food"'
is "the cancelled delivery never started" \
	"$(sql "$db" "SELECT status || ' ' || (started_at IS NULL) FROM deliveries WHERE id = $dcancel")" "cancelled true"
is "every request carried a retry key" \
	"$(curl -s "$U/sim/requests?since=0" | grep -o '"endpoint":"multicast"[^}]*' | grep -vc '"retryKey":"[0-9a-f-]\{36\}"')" "0"
# --- replies to residents (queued by the webhook, sent by the pusher) -------------
u5=$(sql "$db" "SELECT line_user_id FROM residents WHERE id = $r5")
tok=$(curl -s -X POST "$U/sim/users/$u5/events" -d '{"type":"message","text":"ヘルプ"}' |
	sed -n 's/.*"replyToken":"\([^"]*\)".*/\1/p')
like "linesim gave the event a reply token" "$tok" '^[0-9a-f]{32}$'
rp1=$(sql "$db" "INSERT INTO line_replies (resident_id, reply_token, messages, source)
	VALUES ($r5, '$tok', '[{\"type\":\"text\",\"text\":\"MR1\"}]', 'webhook') RETURNING id")
rp2=$(sql "$db" "INSERT INTO line_replies (resident_id, reply_token, messages, source)
	VALUES ($r6, 'deadbeefdeadbeefdeadbeefdeadbeef', '[{\"type\":\"text\",\"text\":\"MR2\"}]', 'webhook') RETURNING id")
rp3=$(sql "$db" "INSERT INTO line_replies (resident_id, reply_token, messages, source)
	VALUES ($r23, NULL, '[{\"type\":\"text\",\"text\":\"MR3\"}]', 'webhook') RETURNING id")
i=0
while [ $i -lt 100 ] && [ "$(sql "$db" "SELECT count(*) FROM line_replies WHERE status IN ('pending', 'sending')")" != 0 ]; do
	sleep 0.1
	i=$((i + 1))
done
is "a reply with a valid token goes as a reply" \
	"$(sql "$db" "SELECT status || ' ' || method FROM line_replies WHERE id = $rp1")" "sent reply"
like "and reaches the resident" "$(curl -s "$U/sim/users/$u5/inbox")" '"endpoint":"reply"[^}]*"message":\{[^}]*"text":"MR1"'
is "a reply whose token LINE refuses is pushed instead" \
	"$(sql "$db" "SELECT status || ' ' || method FROM line_replies WHERE id = $rp2")" "sent push"
like "and reaches the resident by push" \
	"$(curl -s "$U/sim/users/$(sql "$db" "SELECT line_user_id FROM residents WHERE id = $r6")/inbox")" \
	'"endpoint":"push"[^}]*"message":\{[^}]*"text":"MR2"'
like "a reply to a resident who blocked the account fails with the reason" \
	"$(sql "$db" "SELECT status || ': ' || error FROM line_replies WHERE id = $rp3")" '^failed: the resident blocked'
like "/metrics counts the accepted requests" "$(curl -s "http://127.0.0.1:$mport/metrics")" \
	'hotline_pusher_requests_total\{outcome="accepted"\} [1-9]'
stop
is "SIGTERM stops the pusher with status 0" "$pstatus" 0

# --- broadcast, and its fall-back to multicast ----------------------------------------
bconf=$(conf_for "$db" "[line]
api_base_url = $U
request_timeout_ms = 1000
[pusher]
metrics_listen = 127.0.0.1:$mport
retry_base_ms = 50
retry_max_ms = 400")
start "$bconf"
b1=$(queue MB1 true "")
check "a delivery to everyone finishes" wait_done "$b1"
is "it went as one broadcast" \
	"$(sql "$db" "SELECT send_method || ' ' || sent_requests || ' ' || (targeted = accepted) FROM deliveries WHERE id = $b1")" \
	"broadcast 1 true"
curl -s -X POST "$U/sim/faults" -d '{"path":"/v2/bot/message/broadcast","status":429}' >/dev/null
b2=$(queue MB2 true "")
check "a delivery to everyone finishes while broadcasts are refused" wait_done "$b2"
is "it fell back to multicast batches over the residents" \
	"$(sql "$db" "SELECT send_method || ' ' || (targeted = accepted) || ' ' || accepted FROM deliveries WHERE id = $b2")" \
	"multicast true 383"
is "the refused broadcast batch is kept as skipped" \
	"$(sql "$db" "SELECT status FROM delivery_batches WHERE delivery_id = $b2 AND method = 'broadcast'")" "skipped"
curl -s -X DELETE "$U/sim/faults" >/dev/null
stop

# --- LINE's monthly quota ---------------------------------------------------------------
curl -s -X PUT "$U/sim/channel" -d '{"quota":100}' >/dev/null
start
q1=$(queue MQ1 false "'{\"all\":[{\"item\":\"region\",\"any\":[\"kurabuchi\"]}]}'")
check "a delivery over the monthly quota is settled" wait_done "$q1"
like "it is held with the reason in Japanese" \
	"$(sql "$db" "SELECT status || ': ' || hold_reason FROM deliveries WHERE id = $q1")" \
	'^held: LINEの今月の送信可能数が足りないため保留しました（送信対象 [0-9]+ 人、今月の残り 0 通）'
stop
curl -s -X PUT "$U/sim/channel" -d '{"quota":null}' >/dev/null

# --- a channel access token LINE refuses --------------------------------------------
HOTLINE_LINE_CHANNEL_TOKEN=not-the-token "$HL_BIN/hotline-pusher" -c "$conf" 2>>"$log" &
ppid=$!
t1=$(queue MT1 false "'{\"all\":[{\"item\":\"region\",\"any\":[\"kurabuchi\"]}]}'")
check "a delivery whose requests LINE refuses for the token is settled" wait_done "$t1"
like "it is held (not failed) with what to fix" \
	"$(sql "$db" "SELECT status || ': ' || hold_reason FROM deliveries WHERE id = $t1")" \
	'^held: LINEがチャネルアクセストークンを受け付けませんでした（HTTP 401'
like "and the pusher logs it as an error" "$(cat "$log")" 'level=error .*msg="LINE refused the channel access token; delivery held"'
stop

# --- kill -9 mid fan-out, answers lost after LINE accepted -----------------------------
more=$(curl -s -X POST "$U/sim/users" -d '{"count":2600,"silent":true}' | grep -oE 'U[0-9a-f]{32}')
echo "$more" | sql "$db" "COPY residents (line_user_id) FROM STDIN"
active=$(sql "$db" "SELECT count(*) FROM residents WHERE status = 'active'")
kconf=$(conf_for "$db" "[line]
api_base_url = $U
request_timeout_ms = 1000
[pusher]
metrics_listen = 127.0.0.1:$mport
retry_base_ms = 50
retry_max_ms = 400
broadcasts_per_hour = 0
multicast_per_second = 1
multicast_burst = 1
plan_chunk_batches = 1")
# In the first two rounds every answer is lost after LINE accepted the
# request (so the resends must be recognised by their retry keys); then
# LINE answers again.
curl -s -X POST "$U/sim/faults" -d '{"path":"/v2/bot/message/multicast","status":503,"accepted":true}' >/dev/null
k1=$(queue MK1 true "")
rounds=0
while [ $rounds -lt 5 ]; do
	[ $rounds -ne 2 ] || curl -s -X DELETE "$U/sim/faults" >/dev/null
	start "$kconf"
	sleep 0.$((3 + rounds))
	kill -9 "$ppid" 2>/dev/null
	wait "$ppid" 2>/dev/null
	rounds=$((rounds + 1))
done
is "the delivery was interrupted by kill -9 before it finished" \
	"$(sql "$db" "SELECT status FROM deliveries WHERE id = $k1")" "sending"
start "$kconf"
check "a restarted pusher finishes it" wait_done "$k1"
stop
curl -s -X DELETE "$U/sim/faults" >/dev/null
inbox_markers "$tap_tmp/got2"
is "after 5 kill -9s every active resident has MK1 exactly once" \
	"$(grep -c ' MK1$\| MK1 ' "$tap_tmp/got2")" "$active"
is "nobody has it twice" "$(grep -c 'MK1 .*MK1' "$tap_tmp/got2")" "0"
is "409s for lost answers were counted as delivered" \
	"$(sql "$db" "SELECT status || ' ' || (accepted = targeted) || ' ' || targeted FROM deliveries WHERE id = $k1")" \
	"done true $active"
like "LINE saw the retried keys again (409)" "$(curl -s "$U/sim/stats")" '"multicast":\{[^}]*"409":[1-9]'

# --- two pushers share one delivery -------------------------------------------------
mport2=$(free_port 3)
# conf_for writes one file per database: copy it to a file per pusher.
pconf() {	# pconf METRICS-PORT
	f=$(conf_for "$db" "[line]
api_base_url = $U
[pusher]
metrics_listen = 127.0.0.1:$1
broadcasts_per_hour = 0
multicast_per_second = 2
multicast_burst = 1
plan_chunk_batches = 1")
	cp "$f" "$f.$1"
	echo "$f.$1"
}
c1=$(pconf "$mport")
c2=$(pconf "$mport2")
start "$c1"
pid1=$ppid
start "$c2"
pid2=$ppid
p1=$(queue MP1 true "")
check "two pushers at once finish the delivery" wait_done "$p1"
n1=$(curl -s "http://127.0.0.1:$mport/metrics" | sed -n 's/^hotline_pusher_requests_total{outcome="accepted"} //p')
n2=$(curl -s "http://127.0.0.1:$mport2/metrics" | sed -n 's/^hotline_pusher_requests_total{outcome="accepted"} //p')
check "both sent some of its batches ($n1 and $n2)" [ "${n1:-0}" -gt 0 ] && [ "${n2:-0}" -gt 0 ]
kill -TERM "$pid1" "$pid2"
wait "$pid1" "$pid2"
inbox_markers "$tap_tmp/got_mp"
is "each active resident got it exactly once" \
	"$(grep -c ' MP1$\| MP1 ' "$tap_tmp/got_mp")/$(grep -c 'MP1 .*MP1' "$tap_tmp/got_mp")" "$active/0"

# --- a segment planned from its index, chunk after chunk -----------------------------
# A positive condition (gender female, a single-value item) drives the
# planning walk from resident_choices' index (0012): with chunks of one batch
# growing from there, over a thousand candidates, blocked ones among them
# (the first 400 residents' blocked ones keep their choices).
check "a thousand more residents choose female" sql "$db" "
	INSERT INTO resident_choices (resident_id, value_id)
	SELECT r.id, v.id FROM residents r
	  JOIN segment_items i ON i.key = 'gender'
	  JOIN segment_values v ON v.item_id = i.id AND v.key = 'female'
	 WHERE r.id % 5 <> 0 AND NOT EXISTS (SELECT 1 FROM resident_choices c
		WHERE c.resident_id = r.id AND c.item_id = i.id)"
females=$(sql "$db" "SELECT count(*) FROM residents r WHERE r.status = 'active' AND EXISTS (
	SELECT 1 FROM resident_choices c JOIN segment_values v ON v.id = c.value_id
	 WHERE c.resident_id = r.id AND v.key = 'female')")
check "some blocked residents chose female too (the walk must skip them)" [ "$(sql "$db" "
	SELECT count(*) FROM residents r JOIN resident_choices c ON c.resident_id = r.id
	  JOIN segment_values v ON v.id = c.value_id WHERE r.status = 'blocked' AND v.key = 'female'")" -gt 0 ]
gconf=$(pconf "$mport")
sed -i 's/^multicast_per_second = 2$/multicast_per_second = 190/; s/^multicast_burst = 1$/multicast_burst = 10/' "$gconf"
start "$gconf"
g1=$(queue MG1 false "'{\"all\":[{\"item\":\"gender\",\"any\":[\"female\"]}]}'")
check "the segment delivery finishes" wait_done "$g1"
stop
is "it reached every active resident who chose female, counted once" \
	"$(sql "$db" "SELECT status || ' ' || targeted || ' ' || accepted FROM deliveries WHERE id = $g1")" \
	"done $females $females"
check "it was planned in several chunks ($females residents, batches of at most 500)" \
	[ "$(sql "$db" "SELECT count(*) FROM delivery_batches WHERE delivery_id = $g1")" -ge 3 ]
sql "$db" "SELECT r.line_user_id FROM residents r WHERE r.status = 'active' AND EXISTS (
	SELECT 1 FROM resident_choices c JOIN segment_values v ON v.id = c.value_id
	 WHERE c.resident_id = r.id AND v.key = 'female') ORDER BY 1" >"$tap_tmp/females"
inbox_markers "$tap_tmp/got_mg"
is "each inbox with MG1 is an active female resident's, and holds it once" \
	"$(grep ' MG1' "$tap_tmp/got_mg" | grep -v 'MG1 .*MG1' | cut -d' ' -f1 | diff "$tap_tmp/females" - | head -n 5)" ""

# --- faults: 10% 500s, a 429 storm, slow answers, LINE down for a while --------------
fconf=$(conf_for "$db" "[line]
api_base_url = $U
request_timeout_ms = 3000
[pusher]
metrics_listen = 127.0.0.1:$mport
retry_base_ms = 50
retry_max_ms = 500
broadcasts_per_hour = 0")
fault() { curl -s -X POST "$U/sim/faults" -d "$1" >/dev/null; }
nofaults() { curl -s -X DELETE "$U/sim/faults" >/dev/null; }
start "$fconf"
fault '{"path":"/v2/bot/message/multicast","status":500,"ratio":0.1}'
f1=$(queue MF1 true "")
if wait_done "$f1"; then ok "with 10% 500s it finishes"; else
	not_ok "with 10% 500s it finishes" "$(tail -n 15 "$log")"
fi
nofaults
fault '{"path":"/v2/bot/message/multicast","latency_ms":2000}'
f2=$(queue MF2 true "")
check "with every answer taking 2 s it finishes" wait_done "$f2"
nofaults
# Answers slower than the timeout: LINE delivers what the pusher gave up
# waiting for, and the resend with the same retry key must not deliver again.
fault '{"path":"/v2/bot/message/multicast","latency_ms":4000}'
f3=$(queue MF3 true "")
sleep 3.5
nofaults
check "with answers beyond the timeout for a while, it finishes" wait_done "$f3"
fault '{"path":"/v2/bot/message/multicast","status":429}'
f4=$(queue MF4 true "")
sleep 1.5
is "during a 429 storm it waits" "$(sql "$db" "SELECT status FROM deliveries WHERE id = $f4")" "sending"
nofaults
check "after the storm it finishes" wait_done "$f4"
fault '{"path":"/v2/bot","status":503}'
f5=$(queue MF5 true "")
sleep 3
is "while LINE is down nothing is lost: the delivery waits" \
	"$(sql "$db" "SELECT status || ' ' || accepted FROM deliveries WHERE id = $f5")" "sending 0"
nofaults
check "when LINE is back it finishes" wait_done "$f5"
stop
inbox_markers "$tap_tmp/got3"
for m in MF1 MF2 MF3 MF4 MF5; do
	is "$m reached every active resident exactly once" \
		"$(grep -c " $m\$\| $m " "$tap_tmp/got3")/$(grep -c "$m .*$m" "$tap_tmp/got3")" "$active/0"
done
is "and the figures agree" \
	"$(sql "$db" "SELECT count(*) FROM deliveries WHERE id IN ($f1, $f2, $f3, $f4, $f5) AND status = 'done' AND accepted = $active AND failed = 0")" "5"
like "the pusher logged the retries" "$(cat "$log")" 'msg="LINE request will be retried".*status=(429|500|503)'
unlike "no LINE user id appears in the logs" "$(cat "$log")" 'U[0-9a-f]{32}'

kill -TERM "$simpid" 2>/dev/null
wait "$simpid" 2>/dev/null
tap_done
