#!/bin/sh
# The daemons' common start-up: config errors name FILE:LINE, missing
# secrets are named, /healthz reflects the database, SIGTERM stops cleanly,
# logs are logfmt lines.
. "$HL_TOP/tests/lib.sh"

db=$(db_new)
conf=$(conf_for "$db")
ctl "$conf" migrate >/dev/null 2>&1 || not_ok "migrate for the daemon tests"

# --- configuration errors ------------------------------------------------------
bad="$tap_tmp/bad.conf"
printf '[log]\nlevel = info\n[webhook]\nlisten = localhost:80\n' >"$bad"
out=$(HOTLINE_LINE_CHANNEL_SECRET=s "$HL_BIN/hotline-webhook" -c "$bad" 2>&1)
is "a bad value exits with EX_CONFIG" "$?" 78
like "the error names file and line" "$out" "^hotline-webhook: $bad:4: \[webhook\] listen: expected IP:PORT"

printf '[pusher]\nmetric_listen = 127.0.0.1:1\n' >"$bad"
out=$("$HL_BIN/hotline-admin" -c "$bad" 2>&1)
is "an unknown key in another daemon's section stops this one too" "$?" 78
like "the unknown key is named" "$out" "$bad:2: unknown key 'metric_listen' in \[pusher\]"

out=$("$HL_BIN/hotline-webhook" -c "$tap_tmp/missing.conf" 2>&1)
is "a missing config file exits 78" "$?" 78
like "and is named" "$out" "missing\.conf: cannot open: No such file or directory"

# --- secrets ---------------------------------------------------------------------
out=$(env -u HOTLINE_LINE_CHANNEL_SECRET "$HL_BIN/hotline-webhook" -c "$conf" -t 2>&1)
is "the webhook refuses to start without the channel secret" "$?" 78
like "and says which variable to set" "$out" "the LINE channel secret is not set: set the environment variable HOTLINE_LINE_CHANNEL_SECRET or \[line\] channel_secret_file"
out=$(env -u HOTLINE_LINE_CHANNEL_TOKEN "$HL_BIN/hotline-pusher" -c "$conf" -t 2>&1)
like "the pusher names the channel token" "$out" "HOTLINE_LINE_CHANNEL_TOKEN"
out=$(HOTLINE_LINE_CHANNEL_SECRET=0123abcd "$HL_BIN/hotline-webhook" -c "$conf" -t 2>&1)
is "with its secret -t says ok" "$out" "hotline-webhook: configuration ok"
printf 'file-token\n' >"$tap_tmp/token"
printf '[line]\nchannel_token_file = %s\n' "$tap_tmp/token" >>"$conf"
out=$(env -u HOTLINE_LINE_CHANNEL_TOKEN "$HL_BIN/hotline-pusher" -c "$conf" -t 2>&1)
is "a secret may come from a file" "$out" "hotline-pusher: configuration ok"

# --- serving, health and a clean stop --------------------------------------------
port=$(free_port 1)
printf '[webhook]\nlisten = 127.0.0.1:%s\nmax_body_bytes = 1024\n' "$port" >>"$conf"
HOTLINE_LINE_CHANNEL_SECRET=0123abcd "$HL_BIN/hotline-webhook" -c "$conf" 2>"$tap_tmp/webhook.log" &
pid=$!
if wait_http "http://127.0.0.1:$port/healthz"; then ok "the webhook listens"; else not_ok "the webhook listens" "$(cat "$tap_tmp/webhook.log")"; fi
is "healthz is 200 with the database up" "$(http GET "http://127.0.0.1:$port/healthz")" '200 {"status":"ok","database":"ok"}'
like "an unknown path is 404" "$(http GET "http://127.0.0.1:$port/nope")" "^404 "
big=$(head -c 4096 /dev/zero | tr '\0' 'x')
like "an oversize body is refused with 413" "$(http POST "http://127.0.0.1:$port/webhook" --data-binary "$big")" "^413 "
kill -TERM "$pid"
wait "$pid"
is "SIGTERM stops the webhook with status 0" "$?" 0
log=$(cat "$tap_tmp/webhook.log")
like "the start is logged as logfmt" "$log" "^ts=[0-9T:.+-]+ level=info prog=hotline-webhook msg=listening addr=127\.0\.0\.1:$port role=hotline_webhook$"
like "the stop is logged" "$log" "level=info prog=hotline-webhook msg=stopping signal=15"

# --- a daemon whose database is gone answers 503, not a crash -----------------
port2=$(free_port 2)
dead="$tap_tmp/dead.conf"
printf '[database]\nconninfo = dbname=%s_gone\n[admin]\nlisten = 127.0.0.1:%s\n' "$db" "$port2" >"$dead"
"$HL_BIN/hotline-admin" -c "$dead" 2>"$tap_tmp/admin.log" &
pid=$!
wait_http "http://127.0.0.1:$port2/healthz" || not_ok "the admin server listens" "$(cat "$tap_tmp/admin.log")"
like "healthz is 503 without a database" "$(http GET "http://127.0.0.1:$port2/healthz")" '^503 \{"status":"unavailable","database":"down","error":"cannot connect to PostgreSQL as hotline_admin: .*does not exist'
kill -TERM "$pid"
wait "$pid"
is "the admin server still stops cleanly" "$?" 0

# --- a listen address already taken ------------------------------------------
printf '[pusher]\nmetrics_listen = 127.0.0.1:%s\n' "$port" >>"$conf"
nc_pid=""
HOTLINE_LINE_CHANNEL_SECRET=x "$HL_BIN/hotline-webhook" -c "$conf" 2>/dev/null &
nc_pid=$!
wait_http "http://127.0.0.1:$port/healthz"
out=$(HOTLINE_LINE_CHANNEL_TOKEN=t "$HL_BIN/hotline-pusher" -c "$conf" 2>&1)
is "a taken port stops the daemon with status 1" "$?" 1
like "and says why" "$out" "level=fatal prog=hotline-pusher msg=\"cannot start\" error=\"cannot listen on 127\.0\.0\.1:$port: Address already in use\""
kill -TERM "$nc_pid"
wait "$nc_pid"

tap_done
