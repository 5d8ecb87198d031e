# tests/lib.sh — shared helpers for the integration tests (POSIX sh, TAP output).
#
# Source it from a test script; it expects HL_BIN (the binaries under test),
# HL_TOP (the work tree) and PGHOST/PGPORT/PGUSER (the private cluster) in the
# environment, as tests/run sets them.  Each assertion prints one TAP line;
# tap_done prints the plan and exits non-zero when anything failed.

: "${HL_TOP:?run the tests with tests/run (make test)}"
: "${HL_BIN:?run the tests with tests/run (make test)}"

tap_n=0
tap_failed=0
tap_tmp=$(mktemp -d "${TMPDIR:-/tmp}/hltest.XXXXXX")

tap_cleanup() {
	# db_new runs in $(...), a subshell: it records names in a file.
	if [ -f "$tap_tmp/dbs" ]; then
		while read -r db; do
			"$HL_TOP/tools/dev/pgctl" dropdb "$db" >/dev/null 2>&1 || true
		done <"$tap_tmp/dbs"
	fi
	rm -rf "$tap_tmp"
}
trap tap_cleanup EXIT

ok() {	# ok NAME — a passing check
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - $1"
}

not_ok() {	# not_ok NAME [DETAIL] — a failing check
	tap_n=$((tap_n + 1))
	tap_failed=$((tap_failed + 1))
	echo "not ok $tap_n - $1"
	[ $# -lt 2 ] || printf '%s\n' "$2" | sed 's/^/#   /'
}

check() {	# check NAME CMD... — passes when CMD exits 0
	name=$1
	shift
	if out=$("$@" 2>&1); then ok "$name"; else not_ok "$name" "$out"; fi
}

check_fails() {	# check_fails NAME CMD... — passes when CMD exits non-zero
	name=$1
	shift
	if out=$("$@" 2>&1); then not_ok "$name" "expected failure, got success: $out"; else ok "$name"; fi
}

is() {	# is NAME GOT WANT
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "got:  $2
want: $3"; fi
}

like() {	# like NAME TEXT GREP-E-PATTERN
	if printf '%s\n' "$2" | grep -Eq -- "$3"; then ok "$1"; else not_ok "$1" "text: $2
does not match: $3"; fi
}

unlike() {	# unlike NAME TEXT GREP-E-PATTERN
	if printf '%s\n' "$2" | grep -Eq -- "$3"; then not_ok "$1" "text: $2
matches: $3"; else ok "$1"; fi
}

tap_done() {
	echo "1..$tap_n"
	[ "$tap_failed" -eq 0 ]
	exit $?
}

# A throwaway database, dropped when the script ends.  Prints its name.
db_new() {
	name="hlt_$(basename "$0" .sh | tr -c 'a-z0-9\n' '_')_$$_$(date +%s%N | tail -c 7)"
	"$HL_TOP/tools/dev/pgctl" createdb "$name" >/dev/null
	echo "$name" >>"$tap_tmp/dbs"
	echo "$name"
}

# psql as the cluster's superuser, or as ROLE with psql_as: unaligned, no
# headers, stop on the first error.
sql() {	# sql DB SQL
	psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$1" -c "$2"
}
sql_as() {	# sql_as ROLE DB SQL
	psql -X -q -A -t -v ON_ERROR_STOP=1 -U "$1" -d "$2" -c "$3"
}

# A config file for a throwaway database: prints its path.
conf_for() {	# conf_for DB [EXTRA-INI-TEXT]
	f="$tap_tmp/$1.conf"
	{
		echo "[database]"
		echo "conninfo = dbname=$1"
		echo "migrations_dir = $HL_TOP/db/migrations"
		[ $# -lt 2 ] || printf '%s\n' "$2"
	} >"$f"
	echo "$f"
}

# hotlinectl against a config
ctl() {	# ctl CONF ARGS...
	c=$1
	shift
	"$HL_BIN/hotlinectl" -c "$c" "$@"
}

# Poll URL until it answers with any HTTP status (10 s at most).
wait_http() {	# wait_http URL
	i=0
	while [ $i -lt 100 ]; do
		if curl -s -o /dev/null --max-time 1 "$1"; then
			return 0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# A loopback TCP port nobody listens on now, from a per-script range.
free_port() {
	p=$((20000 + ($$ * 7 + ${1:-0} * 101) % 20000))
	while curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$p/" 2>/dev/null ||
		[ $? -ne 7 ]; do
		p=$((p + 1))
	done
	echo "$p"
}

# HTTP status and body of a request: "STATUS BODY".
http() {	# http METHOD URL [CURL-ARGS...]
	m=$1
	u=$2
	shift 2
	curl -s -X "$m" -o "$tap_tmp/body" -w '%{http_code}' --max-time 5 "$@" "$u"
	printf ' '
	cat "$tap_tmp/body"
}
