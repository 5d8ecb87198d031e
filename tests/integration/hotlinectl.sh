#!/bin/sh
# hotlinectl: usage errors, check-config, and `admin create` writing a
# PBKDF2-hashed 管理者 together with its audit-log row.
. "$HL_TOP/tests/lib.sh"

db=$(db_new)
conf=$(conf_for "$db")
check "migrate" ctl "$conf" migrate

out=$("$HL_BIN/hotlinectl" 2>&1)
is "no command is a usage error" "$?" 2
like "usage is printed" "$out" "^usage: hotlinectl"
out=$(ctl "$conf" frobnicate 2>&1)
is "an unknown command is a usage error" "$?" 2
like "and is named" "$out" "unknown command 'frobnicate'"
out=$(ctl "$conf" check-config 2>&1)
is "check-config accepts a good file" "$out" "$conf: configuration ok"
printf '[database]\nconnect_timeout = never\n' >"$tap_tmp/bad.conf"
out=$(ctl "$tap_tmp/bad.conf" check-config 2>&1)
like "check-config names file and line" "$out" "bad\.conf:2: \[database\] connect_timeout: expected a whole number"

out=$(echo "tamura-kouhou-2026" | ctl "$conf" admin create tamura --name "田村 広報" --department "広報課" 2>&1)
is "admin create succeeds" "$?" 0
like "and says what to do next" "$out" "管理者アカウント 'tamura' を作成しました"
row=$(sql "$db" "SELECT s.role || '|' || s.display_name || '|' || d.name || '|' || (s.password_hash LIKE 'pbkdf2-sha256\$600000\$%') FROM staff s JOIN departments d ON d.id = s.department_id WHERE s.login = 'tamura'")
is "the account is an admin with a PBKDF2 hash" "$row" "admin|田村 広報|広報課|true"
unlike "the password is not stored" "$(sql "$db" "SELECT password_hash FROM staff")" "tamura-kouhou-2026"
is "the creation is in the audit log" \
	"$(sql "$db" "SELECT actor || '|' || action || '|' || (detail->>'login') FROM audit_log ORDER BY id DESC LIMIT 1")" \
	"hotlinectl|staff.create|tamura"
is "the audit chain verifies" "$(sql "$db" "SELECT coalesce(audit_verify()::text, 'intact')")" "intact"

out=$(echo "another-long-password" | ctl "$conf" admin create tamura 2>&1)
is "a taken login fails" "$?" 1
like "and says so" "$out" "an account named 'tamura' already exists"
out=$(echo "short" | ctl "$conf" admin create suzuki 2>&1)
is "a weak password is refused" "$?" 1
like "with a Japanese reason" "$out" "パスワードは12文字以上にしてください"
out=$(echo "long-enough-password" | ctl "$conf" admin create "Bad Login!" 2>&1)
like "a bad login is refused" "$out" "login 'Bad Login!' is not valid"
out=$(ctl "$conf" admin create suzuki </dev/null 2>&1)
like "no password on stdin is refused" "$out" "expected the password on the first line"
is "nothing else was created" "$(sql "$db" "SELECT count(*) FROM staff")" 1

# --- rules test: the mail rules' preview -------------------------------------------
psql -X -q -v ON_ERROR_STOP=1 -1 -d "$db" -f "$HL_TOP/db/demo/0002_mail_rules.sql" >/dev/null
out=$(ctl "$conf" rules test "$HL_TOP/tests/fixtures/mail/03-kasai-haruna-sjis-qp.eml" 2>&1)
is "rules test exits 0" "$?" 0
like "it shows the target filter" "$out" '配信先: \{"all":\[\{"any":\["fire"\],"item":"category"\},\{"any":\["haruna"\],"item":"region"\}\]\}'
like "and the LINE text with the city's link appended" "$out" "詳しくは高崎市ホームページをご覧ください。"
unlike "and not the stripped footer" "$out" "配信停止"
out=$(ctl "$conf" rules test "$HL_TOP/tests/fixtures/mail/03-kasai-haruna-sjis-qp.eml" --from x@evil.example 2>&1)
like "another envelope sender is refused" "$out" "結果: 配信しない"
is "rules test stores nothing" "$(sql "$db" "SELECT count(*) FROM mails")" 0
printf 'not a mail\n' >"$tap_tmp/junk"
out=$(ctl "$conf" rules test "$tap_tmp/junk" 2>&1)
is "a file that is not a mail fails" "$?" 1
like "and says why" "$out" "junk: not a mail"

tap_done
