#!/bin/sh
# hotlinectl migrate against a throwaway database: ordered, recorded,
# idempotent, all-or-nothing per file, and loud about mistakes.
. "$HL_TOP/tests/lib.sh"

db=$(db_new)
conf=$(conf_for "$db")

# --- the real migrations ---------------------------------------------------
out=$(ctl "$conf" migrate 2>&1)
is "migrate exits 0 on a fresh database" "$?" 0
nfiles=$(ls "$HL_TOP"/db/migrations/[0-9][0-9][0-9][0-9]_*.sql | wc -l)
is "every migration file is recorded" "$(sql "$db" 'SELECT count(*) FROM schema_migrations')" "$nfiles"
like "migrate reports what it applied" "$out" "migrate: $nfiles applied, 0 already up to date"

before=$(pg_dump -X --schema-only -d "$db" 2>&1; sql "$db" 'SELECT version, checksum, applied_at FROM schema_migrations ORDER BY 1')
out=$(ctl "$conf" migrate 2>&1)
is "second migrate exits 0" "$?" 0
like "second migrate applies nothing" "$out" "migrate: 0 applied, $nfiles already up to date"
after=$(pg_dump -X --schema-only -d "$db" 2>&1; sql "$db" 'SELECT version, checksum, applied_at FROM schema_migrations ORDER BY 1')
is "second migrate changes neither schema nor records" "$after" "$before"

out=$(ctl "$conf" migrate --status 2>&1)
unlike "status shows nothing pending" "$out" "^pending"

# --- runner mechanics on synthetic migrations --------------------------------
db2=$(db_new)
mig="$tap_tmp/mig"
mkdir -p "$mig"
conf2=$(conf_for "$db2")
sed -i "s|^migrations_dir = .*|migrations_dir = $mig|" "$conf2"

cat >"$mig/0001_first.sql" <<'SQL'
-- 日本語のコメントも読めること
CREATE TABLE first_table (id integer PRIMARY KEY, note text);
INSERT INTO first_table VALUES (1, '高崎');
SQL
cat >"$mig/0002_broken.sql" <<'SQL'
-- the first statement succeeds, the third fails: nothing may remain
CREATE TABLE half_done (id integer);
INSERT INTO half_done VALUES (1);
SELECT no_such_column FROM half_done;
SQL
out=$(ctl "$conf2" migrate 2>&1)
rc=$?
is "a broken migration fails the run" "$rc" 1
like "the error names the file and line" "$out" "0002_broken\.sql:4: .*no_such_column"
like "the error says it was rolled back" "$out" "0002_broken\.sql was rolled back"
is "earlier migrations stay applied" "$(sql "$db2" 'SELECT note FROM first_table')" "高崎"
is "nothing of the broken migration remains" \
	"$(sql "$db2" "SELECT count(*) FROM pg_tables WHERE tablename = 'half_done'")" 0
is "the broken migration is not recorded" \
	"$(sql "$db2" "SELECT string_agg(version::text, ',') FROM schema_migrations")" 1

cat >"$mig/0002_broken.sql" <<'SQL'
CREATE TABLE half_done (id integer);
SQL
check "a fixed migration then applies" ctl "$conf2" migrate

printf '\n-- edited later\n' >>"$mig/0001_first.sql"
out=$(ctl "$conf2" migrate 2>&1)
is "an applied file that changed is an error" "$?" 1
like "the change is explained" "$out" "0001_first\.sql was changed after it was applied"

# Put the applied file back as it was before the next checks.
sed -i '/^$/,$d' "$mig/0001_first.sql"
check "the restored file is accepted again" ctl "$conf2" migrate

printf 'SELECT 1;\n' >"$mig/3-bad-name.sql"
out=$(ctl "$conf2" migrate 2>&1)
is "a misnamed file is refused" "$?" 1
like "the naming rule is explained" "$out" "must be named NNNN_name\.sql"
rm "$mig/3-bad-name.sql"

printf 'SELECT 1;\n' >"$mig/0003_dup.sql"
printf 'SELECT 1;\n' >"$mig/0003_dup_again.sql"
out=$(ctl "$conf2" migrate 2>&1)
like "duplicate versions are refused" "$out" "share version 0003"
rm "$mig/0003_dup_again.sql" "$mig/0003_dup.sql"

# --- a database that is not there --------------------------------------------
conf3="$tap_tmp/dead.conf"
printf '[database]\nconninfo = host=%s port=1 dbname=x\nconnect_timeout = 2\nmigrations_dir = %s\n' \
	"$tap_tmp" "$mig" >"$conf3"
out=$(ctl "$conf3" migrate 2>&1)
is "an unreachable database fails" "$?" 1
like "and says it cannot connect" "$out" "cannot connect to PostgreSQL"

tap_done
