#!/bin/sh
# Run the libFuzzer targets for $HL_FUZZ_SECONDS each, as a TAP suite:
# one check per target, failing with the crash's report and the path of
# the input that caused it (kept in var/fuzz/).
. "$HL_TOP/tests/lib.sh"

fuzzdir="$HL_TOP/build/fuzz"
corpus="$HL_TOP/var/fuzz"
for target in mail; do
	bin="$fuzzdir/fuzz_$target"
	if [ ! -x "$bin" ]; then
		not_ok "fuzz_$target is built" "missing $bin: make build/fuzz/fuzz_$target"
		continue
	fi
	mkdir -p "$corpus/$target"
	log="$corpus/$target.log"
	if "$bin" -max_total_time="$HL_FUZZ_SECONDS" -max_len=65536 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$corpus/" "$corpus/$target" \
		"$HL_TOP/tests/fixtures/mail" >"$log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		ok "fuzz_$target: ${runs:-?} inputs in ${HL_FUZZ_SECONDS} s without a crash, leak or UB"
	else
		not_ok "fuzz_$target found a crash (log: $log)" "$(grep -A 30 -m 1 'ERROR\|==ERROR\|runtime error' "$log" | head -40)"
	fi
done
tap_done
