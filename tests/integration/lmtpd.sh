#!/bin/sh
# hotline-lmtpd end to end: swaks speaks LMTP to the real daemon, which
# stores each sample alert with the delivery its rules make; duplicates,
# non-mail, oversize mail, a refused sender and a dead database get the
# replies Postfix needs (250 / 554 / 552 / 451), and nothing is lost.
. "$HL_TOP/tests/lib.sh"

# The samples of ../shared/samples, copied into the tree as fixtures.
samples="$HL_TOP/tests/fixtures/mail"
db=$(db_new)
conf=$(conf_for "$db")
check "migrate" ctl "$conf" migrate
check "load the demo mail rules" psql -X -q -v ON_ERROR_STOP=1 -1 -d "$db" \
	-f "$HL_TOP/db/demo/0002_mail_rules.sql"

port=$(free_port 1)
printf '[lmtp]\nlisten = 127.0.0.1:%s\nhostname = lmtp.test\nmax_message_bytes = 1048576\n' \
	"$port" >>"$conf"
"$HL_BIN/hotline-lmtpd" -c "$conf" 2>"$tap_tmp/lmtpd.log" &
pid=$!
i=0
until swaks --server "127.0.0.1:$port" --protocol LMTP --quit-after CONNECT >/dev/null 2>&1 ||
	[ $i -ge 50 ]; do
	sleep 0.1
	i=$((i + 1))
done

# send FILE [FROM] — the LMTP transcript of delivering FILE.
send() {
	swaks --server "127.0.0.1:$port" --protocol LMTP --helo mx.test \
		--from "${2:-anshin-hot@city.takasaki.example.jp}" \
		--to line-bridge@city.takasaki.example.jp --data "@$1" 2>&1
}

out=$(send "$samples/01-bohan-kurabuchi-iso2022jp.eml")
like "a sample alert is accepted with 250 after it is stored" "$out" \
	"<-  250 2\.0\.0 <line-bridge@city\.takasaki\.example\.jp> queued as delivery [0-9]+"
is "the mail is stored, queued, with its Message-ID" \
	"$(sql "$db" "SELECT status || '|' || message_id || '|' || via FROM mails")" \
	"queued|20251120.1540.anshin@city.takasaki.example.jp|lmtp"
is "the raw mail is kept byte for byte" \
	"$(sql "$db" "SELECT raw_size > 500 FROM mails")" "t"
row=$(sql "$db" "SELECT d.source || '|' || d.status || '|' || d.everyone || '|' || (d.target::text) FROM deliveries d JOIN mails m ON m.delivery_id = d.id")
like "the delivery targets the alert's region and category" "$row" \
	'^mail\|queued\|false\|.*"crime_prevention".*"kurabuchi"|^mail\|queued\|false\|.*"kurabuchi".*"crime_prevention"'
msg=$(sql "$db" "SELECT d.messages->0->>'text' FROM deliveries d")
like "the LINE text is decoded Japanese" "$msg" "倉渕"
unlike "the footer was stripped" "$msg" "━━━"

out=$(send "$samples/01-bohan-kurabuchi-iso2022jp.eml")
like "the same mail again is acknowledged" "$out" "250 2\.0\.0 <[^>]*> already accepted"
is "and stored once" "$(sql "$db" "SELECT count(*) FROM mails")" 1

for f in "$samples"/0[2-6]-*.eml; do
	out=$(send "$f")
	like "$(basename "$f") is accepted" "$out" "<-  250 2\.0\.0"
done
is "every sample made a delivery" "$(sql "$db" "SELECT count(*) FROM deliveries WHERE source = 'mail'")" 6
is "a city-wide (全域) alert is not limited by region, only by its category" \
	"$(sql "$db" "SELECT d.target::text FROM deliveries d JOIN mails m ON m.delivery_id = d.id WHERE m.message_id LIKE '20251121.%'")" \
	'{"all": [{"any": ["disaster"], "item": "category"}]}'

printf 'this is not a mail\r\n' >"$tap_tmp/junk.txt"
out=$(send "$tap_tmp/junk.txt")
like "something that is not a mail is refused for good" "$out" "<\*\* 554 5\.6\.0 <[^>]*> not accepted: "

# A new Message-ID: the sample itself was accepted above (and stays so).
sed 's/^Message-ID: <20251121\./Message-ID: <forged./' "$samples/02-bosai-all-utf8-base64.eml" \
	>"$tap_tmp/forged.eml"
out=$(send "$tap_tmp/forged.eml" "someone@elsewhere.example")
like "a sender the rules do not allow is refused (the header From does not count)" "$out" \
	"554 5\.6\.0 <[^>]*> sender not allowed"
is "and kept for audit as ignored, without a delivery" \
	"$(sql "$db" "SELECT status || '|' || (delivery_id IS NULL) FROM mails WHERE message_id LIKE 'forged.%'")" "ignored|true"

head -c 1100000 /dev/zero | tr '\0' 'x' | fold -w 76 >"$tap_tmp/big.txt"
out=$(send "$tap_tmp/big.txt")
like "a mail over the size limit is refused with 552" "$out" "552 5\.3\.4"

# --- a stored rule that no longer compiles holds the alert, never loses it -------
sql "$db" "INSERT INTO mail_rules (kind, position, name, part, pattern)
	   VALUES ('strip', 5, '壊れたルール', 'body', '(unclosed')" >/dev/null
sed 's/^Message-ID: <20251123\./Message-ID: <broken-rule./' "$samples/04-event-shinmachi-utf8-qp.eml" \
	>"$tap_tmp/broken-rule.eml"
out=$(send "$tap_tmp/broken-rule.eml")
like "with a broken rule the alert is still accepted" "$out" "250 2\.0\.0 <[^>]*> held for approval as delivery [0-9]+"
like "held for staff with the pattern error as the reason" \
	"$(sql "$db" "SELECT d.status || '|' || d.hold_reason FROM deliveries d JOIN mails m ON m.delivery_id = d.id WHERE m.message_id LIKE 'broken-rule.%'")" \
	"^held\|メールルールにエラーがあるため承認待ちにしました: .*missing closing parenthesis"
sql "$db" "DELETE FROM mail_rules WHERE position = 5" >/dev/null
# The compiled rules are cached between mails: a staff edit must still take
# effect at the very next mail.
sed 's/^Message-ID: <20251123\./Message-ID: <after-fix./' "$samples/04-event-shinmachi-utf8-qp.eml" \
	>"$tap_tmp/after-fix.eml"
like "once the rule is removed the next alert is queued again" "$(send "$tap_tmp/after-fix.eml")" \
	"250 2\.0\.0 <[^>]*> queued as delivery [0-9]+"
sql "$db" "UPDATE mail_rule_values SET keyword = '新町地区' WHERE keyword = '新町'" >/dev/null
sed 's/^Message-ID: <20251123\./Message-ID: <renamed./' "$samples/04-event-shinmachi-utf8-qp.eml" \
	>"$tap_tmp/renamed.eml"
send "$tap_tmp/renamed.eml" >/dev/null
is "an edited keyword table is used at the next mail (新町 no longer maps to a region)" \
	"$(sql "$db" "SELECT d.target::text FROM deliveries d JOIN mails m ON m.delivery_id = d.id WHERE m.message_id LIKE 'renamed.%'")" \
	'{"all": [{"any": ["event"], "item": "category"}]}'

# --- the database goes away: 451, and the mail comes back later ----------------
kill -TERM "$pid"
wait "$pid"
is "SIGTERM stops the daemon cleanly" "$?" 0
dead="$tap_tmp/dead.conf"
sed "s/^conninfo = .*/conninfo = dbname=${db}_missing/" "$conf" >"$dead"
"$HL_BIN/hotline-lmtpd" -c "$dead" 2>>"$tap_tmp/lmtpd.log" &
pid=$!
sleep 0.5
out=$(send "$samples/03-kasai-haruna-sjis-qp.eml")
like "with the database unreachable the reply is 451 (Postfix keeps the mail)" "$out" \
	"<\*\* 451 4\.3\.0 <[^>]*> cannot read the mail rules"
kill -TERM "$pid"
wait "$pid"
log=$(cat "$tap_tmp/lmtpd.log")
like "accepted mail is logged without its content" "$log" "msg=\"mail accepted\" session=[0-9a-f]+ mail_id=[0-9]+"
unlike "no Japanese text of the alert in the log" "$log" "倉渕|不審"
tap_done
