#!/bin/sh
# hotline-pusher over HTTPS with HTTP/2, as it talks to LINE in production:
# an HTTP/2-only TLS front (tests/h2/proxy.mjs, Node's http2) before
# linesim, with a CA made by the test.  With [line] ca_file naming that CA
# the delivery goes out and the requests share few connections (HTTP/2
# streams); without it, or with a certificate for another host name, TLS
# verification refuses the server and nothing reaches LINE.
. "$HL_TOP/tests/lib.sh"

t=$tap_tmp
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=hotline test CA" \
	-keyout "$t/ca.key" -out "$t/ca.pem" >/dev/null 2>&1
mkcert() {	# mkcert NAME SAN
	openssl req -newkey rsa:2048 -nodes -subj "/CN=$1" -keyout "$t/$1.key" -out "$t/$1.csr" >/dev/null 2>&1
	printf 'subjectAltName = %s\n' "$2" >"$t/$1.ext"
	openssl x509 -req -in "$t/$1.csr" -CA "$t/ca.pem" -CAkey "$t/ca.key" -CAcreateserial \
		-days 2 -extfile "$t/$1.ext" -out "$t/$1.pem" >/dev/null 2>&1
}
mkcert good "IP:127.0.0.1"
mkcert wrong "DNS:api.other.example"
check "the test CA and certificates exist" test -s "$t/good.pem" -a -s "$t/wrong.pem"

port=$(free_port 1)
U="http://127.0.0.1:$port"
"$HL_BIN/linesim" -l "127.0.0.1:$port" --seed 21 >"$t/linesim.out" 2>"$t/linesim.log" &
simpid=$!
if wait_http "$U/healthz"; then ok "linesim listens"; else not_ok "linesim listens" "$(cat "$t/linesim.log")"; fi
token=$(sed -n 's/.*"channelAccessToken":"\([^"]*\)".*/\1/p' "$t/linesim.out")

hport=$(free_port 2)
node "$HL_TOP/tests/h2/proxy.mjs" "$hport" "$U" "$t/good.key" "$t/good.pem" "$t/stats.json" \
	>"$t/proxy.out" 2>&1 &
proxypid=$!
i=0
while [ $i -lt 100 ] && ! grep -q listening "$t/proxy.out" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
like "the HTTP/2 front listens" "$(cat "$t/proxy.out")" 'listening'
like "it speaks HTTP/2 with the test CA" \
	"$(curl -s --cacert "$t/ca.pem" --http2 -o /dev/null -w '%{http_version}' "https://127.0.0.1:$hport/healthz")" '^2$'

db=$(db_new)
mport=$(free_port 3)
check "migrate" ctl "$(conf_for "$db")" migrate
ids=$(curl -s -X POST "$U/sim/users" -d '{"count":2400,"silent":true}' | grep -oE 'U[0-9a-f]{32}')
echo "$ids" | sql "$db" "COPY residents (line_user_id) FROM STDIN"

# pconf NAME CA-FILE — a config for the pusher behind the HTTP/2 front.
pconf() {
	f=$(conf_for "$db" "[line]
api_base_url = https://127.0.0.1:$hport
ca_file = $2
request_timeout_ms = 2000
[pusher]
metrics_listen = 127.0.0.1:$mport
connections = 2
max_in_flight = 16
broadcasts_per_hour = 0
retry_base_ms = 100
retry_max_ms = 500")
	cp "$f" "$t/$1.conf"
	echo "$t/$1.conf"
}
log="$t/pusher.log"
run_pusher() {	# run_pusher CONF — in the background, pid in $ppid
	HOTLINE_LINE_CHANNEL_TOKEN=$token "$HL_BIN/hotline-pusher" -c "$1" 2>>"$log" &
	ppid=$!
}
queue() {
	sql "$db" "INSERT INTO deliveries (source, messages, everyone, status)
		VALUES ('system', '[{\"type\":\"text\",\"text\":\"$1\"}]', true, 'queued') RETURNING id"
}
status_of() { sql "$db" "SELECT status || ' ' || accepted FROM deliveries WHERE id = $1"; }
wait_status() {	# wait_status ID WANT — up to 20 s
	i=0
	while [ $i -lt 200 ]; do
		[ "$(status_of "$1")" = "$2" ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# --- with the CA: HTTP/2, few connections -------------------------------------------
sleep 0.2
sessions0=$(sed 's/.*"sessions":\([0-9]*\).*/\1/' "$t/stats.json")
run_pusher "$(pconf good "$t/ca.pem")"
d1=$(queue H1)
if wait_status "$d1" "done 2400"; then ok "over HTTPS with the test CA the delivery reaches all 2400"; else
	not_ok "over HTTPS with the test CA the delivery reaches all 2400" "$(status_of "$d1")
$(tail -n 5 "$log")"
fi
kill -TERM "$ppid"
wait "$ppid"
stats=$(cat "$t/stats.json")
streams=$(printf '%s' "$stats" | sed 's/.*"streams":\([0-9]*\).*/\1/')
sessions=$(($(printf '%s' "$stats" | sed 's/.*"sessions":\([0-9]*\).*/\1/') - sessions0))
check "the 5 multicast requests went as HTTP/2 streams ($streams)" [ "$streams" -ge 5 ]
# connections = 2 for the fan-out, plus the quota call's own connection.
check "over at most 3 connections ($sessions)" [ "$sessions" -ge 1 -a "$sessions" -le 3 ]
is "linesim delivered each resident once" \
	"$(curl -s "$U/sim/stats" | sed 's/.*"deliveries":\([0-9]*\).*/\1/')" 2400

# --- without the CA: the system store does not know it -------------------------------
run_pusher "$(pconf system "")"
before=$(cat "$t/stats.json")
d2=$(queue H2)
sleep 2
is "with the system's CAs the server is refused: nothing is accepted" "$(status_of "$d2")" "sending 0"
like "the pusher says why" "$(cat "$log")" 'msg="LINE request will be retried".*status=0.*(SSL|certificate)'
is "and no request reached the front" "$(sed 's/.*"streams":\([0-9]*\).*/\1/' "$t/stats.json")" \
	"$(printf '%s' "$before" | sed 's/.*"streams":\([0-9]*\).*/\1/')"
kill -TERM "$ppid"
wait "$ppid"

# --- a certificate for another host name ----------------------------------------------
kill -TERM "$proxypid"
wait "$proxypid" 2>/dev/null
: >"$t/proxy.out"
node "$HL_TOP/tests/h2/proxy.mjs" "$hport" "$U" "$t/wrong.key" "$t/wrong.pem" "$t/stats.json" \
	>"$t/proxy.out" 2>&1 &
proxypid=$!
i=0
while [ $i -lt 100 ] && ! grep -q listening "$t/proxy.out" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
: >"$log"
run_pusher "$t/good.conf"
sleep 2
is "a certificate for another host name is refused even with the CA" "$(status_of "$d2")" "sending 0"
like "with the reason logged" "$(cat "$log")" 'status=0.*(SSL|certificate|match|host)'
kill -TERM "$ppid"
wait "$ppid"

kill -TERM "$proxypid" "$simpid" 2>/dev/null
wait "$proxypid" "$simpid" 2>/dev/null
tap_done
