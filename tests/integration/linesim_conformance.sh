#!/bin/sh
# linesim against LINE's own definitions: the official @line/bot-sdk talks to
# it directly and through Prism, a proxy that validates every request and
# response against ../shared/line-openapi/messaging-api.yml; no violation may
# be reported.
. "$HL_TOP/tests/lib.sh"

spec="$HL_TOP/../shared/line-openapi/messaging-api.yml"
prism="$HL_TOP/node_modules/.bin/prism"
[ -f "$spec" ] || { not_ok "LINE's OpenAPI spec is beside the tree" "missing: $spec"; tap_done; }
[ -x "$prism" ] || { not_ok "Prism is installed (make deps)" "missing: $prism"; tap_done; }

port=$(free_port 1)
"$HL_BIN/linesim" -l "127.0.0.1:$port" --seed 7 2>"$tap_tmp/linesim.log" &
sim_pid=$!
if wait_http "http://127.0.0.1:$port/sim/channel"; then ok "linesim starts"; else
	not_ok "linesim starts" "$(cat "$tap_tmp/linesim.log")"
	tap_done
fi

pport=$(free_port 2)
"$prism" proxy "$spec" "http://127.0.0.1:$port" --errors -h 127.0.0.1 -p "$pport" \
	>"$tap_tmp/prism.log" 2>&1 &
prism_pid=$!
i=0
until curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$pport/" || [ $i -ge 120 ]; do
	sleep 0.5
	i=$((i + 1))
done

# run_sdk NAME API_URL — the SDK script's checks, renumbered into ours.
run_sdk() {
	out=$(cd "$HL_TOP" && LINESIM_URL="http://127.0.0.1:$port" API_URL="$2" \
		node tests/conformance/botsdk.mjs 2>&1)
	rc=$?
	printf '%s\n' "$out" | while IFS= read -r line; do
		case $line in
		"ok "*) echo "ok - $1: ${line#ok * - }" ;;
		"not ok "*) echo "not ok - $1: ${line#not ok * - }" ;;
		"#"*) echo "$line" ;;
		esac
	done >"$tap_tmp/sdk.tap"
	while IFS= read -r line; do
		case $line in
		"ok - "*) ok "${line#ok - }" ;;
		"not ok - "*) not_ok "${line#not ok - }" ;;
		*) echo "$line" ;;
		esac
	done <"$tap_tmp/sdk.tap"
	[ "$rc" -eq 0 ] || [ -s "$tap_tmp/sdk.tap" ] || not_ok "$1: the SDK script ran" "$out"
}

run_sdk "direct" "http://127.0.0.1:$port"
curl -s -X POST "http://127.0.0.1:$port/sim/reset" >/dev/null
run_sdk "through Prism" "http://127.0.0.1:$pport"

# Prism logs a violation of LINE's spec in a request or a response.
violations=$(grep -iE 'violation|✖' "$tap_tmp/prism.log" | grep -v 'Request terminated' || true)
is "Prism saw no request or response outside LINE's spec" "$violations" ""

kill -TERM "$prism_pid" "$sim_pid" 2>/dev/null
wait "$sim_pid"
is "linesim stops cleanly" "$?" 0
wait "$prism_pid" 2>/dev/null
tap_done
