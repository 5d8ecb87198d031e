#!/bin/sh
# schema.sh — the database schema (db/migrations): it applies, the city's
# defaults are seeded, each daemon's role can do its job and is refused the
# rest, nothing is granted to PUBLIC, the audit log is append-only and its
# hash chain detects tampering, and the pusher is notified of queued work.
. "$HL_TOP/tests/lib.sh"

# Applies every migration with hotlinectl, as an operator would.
apply_migrations() {	# apply_migrations DB
	ctl "$(conf_for "$1")" migrate
}

# Passes when CMD fails with an error matching ERE: a refusal for another
# reason (a typo, a missing table) must not count as the refusal tested.
fails_with() {	# fails_with NAME ERE CMD...
	name=$1 pat=$2
	shift 2
	if out=$("$@" 2>&1); then
		not_ok "$name" "expected failure, got success: $out"
	elif printf '%s\n' "$out" | grep -Eq -- "$pat"; then
		ok "$name"
	else
		not_ok "$name" "failed for another reason: $out"
	fi
}

# Raw bytes from a hex string (POSIX printf has octal escapes only).
hex2bin() {	# hex2bin HEX
	h=$1
	while [ -n "$h" ]; do
		b=${h%"${h#??}"}
		h=${h#??}
		# shellcheck disable=SC2059
		printf "\\$(printf '%03o' "0x$b")"
	done
}

# One line of an audit row's canonical text (docs/schema.md), built here
# from what libpq returns, independently of the SQL function.
canon_field() {	# canon_field DB ID NAME SQL-EXPR
	if [ "$(sql "$1" "SELECT ($4) IS NULL FROM audit_log WHERE id = $2")" = t ]; then
		printf '%s=-\n' "$3"
	else
		v=$(sql "$1" "SELECT $4 FROM audit_log WHERE id = $2")
		printf '%s=%s:%s\n' "$3" "$(printf '%s' "$v" | wc -c | tr -d ' ')" "$v"
	fi
}
canon_row() {	# canon_row DB ID
	echo "hotline-audit-v1"
	canon_field "$1" "$2" id id
	canon_field "$1" "$2" at '(extract(epoch FROM at) * 1000000)::bigint'
	canon_field "$1" "$2" actor_staff_id actor_staff_id
	canon_field "$1" "$2" actor actor
	canon_field "$1" "$2" action action
	canon_field "$1" "$2" target target
	canon_field "$1" "$2" detail detail
	canon_field "$1" "$2" ip ip
	canon_field "$1" "$2" user_agent user_agent
}

# Nothing below means anything if the schema is not there.
migrate_or_bail() {	# migrate_or_bail NAME DB
	if out=$(apply_migrations "$2" 2>&1); then
		ok "$1"
	else
		not_ok "$1" "$out"
		tap_done
	fi
}
db=$(db_new)
db2=$(db_new)
migrate_or_bail "migrations apply to a new database" "$db"
migrate_or_bail "migrations apply to a second database (roles already exist)" "$db2"

# --- database-wide settings ------------------------------------------------

is "database default timezone is Asia/Tokyo" \
	"$(sql "$db" "SELECT array_to_string(setconfig, ',') FROM pg_db_role_setting
		      WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
			AND setrole = 0")" "TimeZone=Asia/Tokyo"
is "a new session runs in Asia/Tokyo" "$(sql "$db" "SHOW timezone")" "Asia/Tokyo"
is "no timestamp without time zone" \
	"$(sql "$db" "SELECT count(*) FROM information_schema.columns
		      WHERE table_schema = 'public' AND data_type = 'timestamp without time zone'")" "0"
is "every table has a comment" \
	"$(sql "$db" "SELECT coalesce(string_agg(relname, ' '), '') FROM pg_class
		      WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p')
			AND obj_description(oid, 'pg_class') IS NULL")" ""
is "the four daemon roles exist, can log in, and are not privileged" \
	"$(sql "$db" "SELECT string_agg(rolname, ',' ORDER BY rolname) FROM pg_roles
		      WHERE rolname IN ('hotline_ingest', 'hotline_pusher', 'hotline_webhook', 'hotline_admin')
			AND rolcanlogin AND NOT rolsuper AND NOT rolcreatedb AND NOT rolcreaterole
			AND NOT rolbypassrls")" \
	"hotline_admin,hotline_ingest,hotline_pusher,hotline_webhook"

# --- nothing for PUBLIC ------------------------------------------------------

is "no table or sequence privilege for PUBLIC" \
	"$(sql "$db" "SELECT count(*) FROM pg_class c, aclexplode(c.relacl) a
		      WHERE c.relnamespace = 'public'::regnamespace AND a.grantee = 0")" "0"
is "no function executable by PUBLIC" \
	"$(sql "$db" "SELECT coalesce(string_agg(proname, ' '), '') FROM pg_proc p
		      WHERE pronamespace = 'public'::regnamespace
			AND (proacl IS NULL OR EXISTS (SELECT 1 FROM aclexplode(proacl) a WHERE a.grantee = 0))")" ""
sql "$db2" "CREATE FUNCTION later_migration() RETURNS int LANGUAGE sql AS 'SELECT 1'" >/dev/null
is "functions a later migration creates are not executable by PUBLIC" \
	"$(sql "$db2" "SELECT has_function_privilege('public', 'later_migration()', 'EXECUTE')")" "f"
is "no schema privilege for PUBLIC" \
	"$(sql "$db" "SELECT count(*) FROM pg_namespace n, aclexplode(n.nspacl) a
		      WHERE n.nspname = 'public' AND a.grantee = 0")" "0"
is "no database privilege for PUBLIC (connect, temp)" \
	"$(sql "$db" "SELECT count(*) FROM pg_database d, aclexplode(d.datacl) a
		      WHERE d.datname = current_database() AND a.grantee = 0")" "0"

# --- seeded segment items --------------------------------------------------

is "default segment items" \
	"$(sql "$db" "SELECT string_agg(key || ':' || kind, ',' ORDER BY position) FROM segment_items")" \
	"region:multi,age_band:single,gender:single,category:multi,child_birthdate:date"
seg_labels() {	# seg_labels DB ITEM-KEY
	sql "$1" "SELECT string_agg(v.label, '・' ORDER BY v.position) FROM segment_values v
		  JOIN segment_items i ON i.id = v.item_id WHERE i.key = '$2'"
}
is "regions seeded" "$(seg_labels "$db" region)" "旧高崎・倉渕・榛名・新町・吉井・群馬・箕郷"
is "categories seeded" "$(seg_labels "$db" category)" \
	"防犯・交通安全・防災・火災・イベント・講座開催・子育て支援・健康づくり・広報高崎・その他"
is "age bands seeded" "$(seg_labels "$db" age_band)" "10代以下・20代・30代・40代・50代・60代・70代以上"
is "genders seeded" "$(seg_labels "$db" gender)" "男性・女性・その他・回答しない"
is "value keys are stable ASCII" \
	"$(sql "$db" "SELECT count(*) FROM segment_values WHERE key !~ '^[a-z][a-z0-9_]*$'")" "0"
check "a segment item can be renamed" \
	sql "$db" "UPDATE segment_items SET label = 'お住まいの地域' WHERE key = 'region'"
fails_with "a segment item's key cannot be changed" 'key is permanent' \
	sql "$db" "UPDATE segment_items SET key = 'area' WHERE key = 'region'"
is "runtime settings seeded" "$(sql "$db" "SELECT value FROM settings WHERE key = 'richmenu.active_set'")" '"normal"'
fails_with "the active rich menu set is normal or disaster" 'settings_richmenu_active_set' \
	sql "$db" "UPDATE settings SET value = '\"party\"' WHERE key = 'richmenu.active_set'"

# --- fixtures (as the owner) ---------------------------------------------------

sql "$db" "INSERT INTO departments (name) VALUES ('情報政策課');
	   INSERT INTO staff (login, display_name, department_id, role, password_hash) VALUES
		('admin1', '管理者一', 1, 'admin', 'pbkdf2-sha256\$600000\$c2FsdA==\$aGFzaA=='),
		('staff2', '職員二', 1, 'staff', 'pbkdf2-sha256\$600000\$c2FsdA==\$aGFzaA==');
	   INSERT INTO residents (line_user_id) SELECT 'U' || md5(n::text) FROM generate_series(1, 3) n;
	   INSERT INTO mail_rules (kind, position, part, pattern, target_item_id)
		SELECT 'keyword', 10, 'body', '【地区】(.+)', id FROM segment_items WHERE key = 'region';
	   INSERT INTO mail_rule_values (rule_id, item_id, keyword, value_id)
		SELECT 1, item_id, label, id FROM segment_values WHERE key = 'kurabuchi';
	   INSERT INTO mail_rule_values (rule_id, item_id, keyword, everyone)
		SELECT 1, target_item_id, '全域', true FROM mail_rules WHERE id = 1;
	   INSERT INTO deliveries (source, messages, target, status, created_by)
		VALUES ('staff', '[{\"type\":\"text\",\"text\":\"staff\"}]', '{}', 'draft', 1);" >/dev/null

fails_with "a keyword cannot map to a value of another item" 'mail_rule_values_rule_id_item_id_fkey' \
	sql "$db" "INSERT INTO mail_rule_values (rule_id, item_id, keyword, value_id)
		   SELECT 1, item_id, 'x', id FROM segment_values WHERE key = 'fire'"

# --- hotline_ingest --------------------------------------------------------------

mail_insert="INSERT INTO mails (via, dedupe_key, message_id, envelope_from, envelope_to, subject, body, raw)
	VALUES ('lmtp', 'mid:alert-1@example.jp', 'alert-1@example.jp', 'alert@example.jp',
		'{line@example.jp}', '不審者情報', '【地区】倉渕', 'raw bytes')"
is "ingest stores a mail" \
	"$(sql_as hotline_ingest "$db" "$mail_insert ON CONFLICT (dedupe_key) DO NOTHING RETURNING id")" "1"
is "ingest: a mail already accepted is not stored again" \
	"$(sql_as hotline_ingest "$db" "$mail_insert ON CONFLICT (dedupe_key) DO NOTHING RETURNING id")" ""
fails_with "mail dedupe key is unique" 'mails_dedupe_key_key' \
	sql_as hotline_ingest "$db" "$mail_insert"
is "ingest queues the mail's delivery and links it" \
	"$(sql_as hotline_ingest "$db" "
		WITH d AS (INSERT INTO deliveries (source, title, messages, target, status)
			   VALUES ('mail', '不審者情報', '[{\"type\":\"text\",\"text\":\"不審者\"}]',
				   '{\"item\":\"region\",\"any\":[\"kurabuchi\"]}', 'queued') RETURNING id)
		UPDATE mails SET status = 'queued', delivery_id = d.id FROM d WHERE mails.id = 1
		RETURNING mails.delivery_id")" "2"
check "ingest reads rules and segment values" \
	sql_as hotline_ingest "$db" "SELECT r.pattern, v.keyword, s.key FROM mail_rules r
		JOIN mail_rule_values v ON v.rule_id = r.id LEFT JOIN segment_values s ON s.id = v.value_id"
check "ingest keeps IMAP state" \
	sql_as hotline_ingest "$db" "INSERT INTO imap_state (account, mailbox, uidvalidity, last_uid)
		VALUES ('alert@imap.example.jp', 'INBOX', 1700000000, 41)
		ON CONFLICT (account, mailbox) DO UPDATE SET last_uid = 42"
is "ingest sees only mail deliveries" \
	"$(sql_as hotline_ingest "$db" "SELECT string_agg(source, ',') FROM deliveries")" "mail"
fails_with "ingest cannot queue a staff delivery" 'violates row-level security policy' \
	sql_as hotline_ingest "$db" "INSERT INTO deliveries (source, messages, everyone, status)
		VALUES ('staff', '[{\"type\":\"text\",\"text\":\"x\"}]', true, 'queued')"
fails_with "ingest cannot read staff" 'permission denied for table staff' \
	sql_as hotline_ingest "$db" "SELECT login FROM staff"
fails_with "ingest cannot read residents" 'permission denied for table residents' \
	sql_as hotline_ingest "$db" "SELECT id FROM residents"
fails_with "ingest cannot read residents' choices" 'permission denied for table resident_choices' \
	sql_as hotline_ingest "$db" "SELECT 1 FROM resident_choices"
fails_with "ingest cannot read the audit log" 'permission denied for table audit_log' \
	sql_as hotline_ingest "$db" "SELECT 1 FROM audit_log"
fails_with "ingest cannot re-read mail bodies" 'permission denied for table mails' \
	sql_as hotline_ingest "$db" "SELECT raw FROM mails"
fails_with "ingest cannot delete mail" 'permission denied for table mails' \
	sql_as hotline_ingest "$db" "DELETE FROM mails"
fails_with "ingest cannot change rules" 'permission denied for table mail_rules' \
	sql_as hotline_ingest "$db" "UPDATE mail_rules SET enabled = false"

# --- hotline_webhook -------------------------------------------------------------

ev="INSERT INTO webhook_events (webhook_event_id, type, line_user_id, body)
	VALUES ('01HXYZWEBHOOKEVENT0000001', 'follow', 'U$(printf 9 | md5sum | cut -c1-32)', '{\"type\":\"follow\"}')"
is "webhook stores an event" "$(sql_as hotline_webhook "$db" "$ev ON CONFLICT (webhook_event_id) DO NOTHING RETURNING id")" "1"
is "webhook: a redelivered event is dropped" \
	"$(sql_as hotline_webhook "$db" "$ev ON CONFLICT (webhook_event_id) DO NOTHING RETURNING id")" ""
fails_with "webhookEventId is unique" 'webhook_events_webhook_event_id_key' \
	sql_as hotline_webhook "$db" "$ev"
check "webhook marks an event processed" \
	sql_as hotline_webhook "$db" "UPDATE webhook_events SET status = 'done', processed_at = now(), attempts = 1 WHERE id = 1"
rid=$(sql_as hotline_webhook "$db" "INSERT INTO residents (line_user_id) VALUES ('U$(printf 9 | md5sum | cut -c1-32)')
	ON CONFLICT (line_user_id) DO UPDATE SET status = 'active', followed_at = now() RETURNING id")
is "webhook registers a resident" "$rid" "4"
choose() {	# choose DB RESIDENT ITEM-KEY VALUE-KEY... — as the webhook
	d=$1 r=$2 item=$3
	shift 3
	keys=$(printf "'%s'," "$@")
	sql_as hotline_webhook "$d" "INSERT INTO resident_choices (resident_id, value_id)
		SELECT $r, v.id FROM segment_values v JOIN segment_items i ON i.id = v.item_id
		WHERE i.key = '$item' AND v.key IN (${keys%,})"
}
check "webhook records a resident's regions" choose "$db" "$rid" region kurabuchi haruna
check "webhook records a resident's categories" choose "$db" "$rid" category fire disaster
check "webhook records an age band" choose "$db" "$rid" age_band thirties
fails_with "a single-choice item holds one value" 'resident_choices_single_uniq' \
	choose "$db" "$rid" age_band forties
is "choices carry their item" \
	"$(sql "$db" "SELECT string_agg(DISTINCT i.key || ':' || c.item_kind, ',') FROM resident_choices c
		      JOIN segment_items i ON i.id = c.item_id WHERE c.resident_id = $rid")" \
	"age_band:single,category:multi,region:multi"
sql "$db" "UPDATE segment_values SET retired_at = now()
	   WHERE key = 'other' AND item_id = (SELECT id FROM segment_items WHERE key = 'category')" >/dev/null
fails_with "a retired value cannot be chosen" 'is retired and cannot be chosen' \
	choose "$db" "$rid" category other
check "webhook records children's birthdates" \
	sql_as hotline_webhook "$db" "INSERT INTO resident_dates (resident_id, item_id, value)
		SELECT $rid, id, d FROM segment_items, (VALUES (DATE '2019-04-02'), (DATE '2022-11-30')) v(d)
		WHERE key = 'child_birthdate'"
fails_with "dates only go to date items" 'resident_dates_item_id_item_kind_fkey' \
	sql_as hotline_webhook "$db" "INSERT INTO resident_dates (resident_id, item_id, value)
		SELECT $rid, id, DATE '2019-04-02' FROM segment_items WHERE key = 'region'"
fails_with "a LINE user id must look like one" 'residents_line_user_id_check' \
	sql_as hotline_webhook "$db" "INSERT INTO residents (line_user_id) VALUES ('not-a-user')"
check "webhook marks a resident blocked" \
	sql_as hotline_webhook "$db" "UPDATE residents SET status = 'blocked', blocked_at = now() WHERE id = 3"
fails_with "webhook cannot make a resident a test receiver" 'permission denied for table residents' \
	sql_as hotline_webhook "$db" "UPDATE residents SET is_tester = true WHERE id = $rid"
fails_with "webhook cannot read staff" 'permission denied for table staff' \
	sql_as hotline_webhook "$db" "SELECT login FROM staff"
fails_with "webhook cannot read staff sessions" 'permission denied for table staff_sessions' \
	sql_as hotline_webhook "$db" "SELECT 1 FROM staff_sessions"
fails_with "webhook cannot read mail" 'permission denied for table mails' \
	sql_as hotline_webhook "$db" "SELECT subject FROM mails"
fails_with "webhook cannot read the audit log" 'permission denied for table audit_log' \
	sql_as hotline_webhook "$db" "SELECT 1 FROM audit_log"
fails_with "webhook cannot change settings" 'permission denied for table settings' \
	sql_as hotline_webhook "$db" "UPDATE settings SET value = 'true'"

# Reservations: capacity is enforced by the database.
sql "$db" "INSERT INTO reservation_services (department_id, name, published) VALUES (1, '住民票の窓口', true);
	   INSERT INTO reservation_slots (service_id, starts_at, ends_at, capacity)
		VALUES (1, '2030-01-07 10:00+09', '2030-01-07 10:30+09', 1)" >/dev/null
book() {	# book DB RESIDENT
	sql_as hotline_webhook "$1" "INSERT INTO reservations (slot_id, resident_id, channel, name)
		VALUES (1, $2, 'line', '高崎 太郎') RETURNING id"
}
is "webhook books a free slot" "$(book "$db" "$rid")" "1"
is "the slot counts the seat" "$(sql "$db" "SELECT booked FROM reservation_slots WHERE id = 1")" "1"
fails_with "a full slot cannot be booked" 'reservation_slots_not_overbooked' book "$db" 1
check "webhook cancels a reservation" \
	sql_as hotline_webhook "$db" "UPDATE reservations SET status = 'cancelled', cancelled_at = now() WHERE id = 1"
is "cancelling frees the seat" "$(sql "$db" "SELECT booked FROM reservation_slots WHERE id = 1")" "0"
fails_with "webhook cannot write seat counts" 'permission denied for table reservation_slots' \
	sql_as hotline_webhook "$db" "UPDATE reservation_slots SET booked = 0"
fails_with "admin cannot write seat counts" 'permission denied for table reservation_slots' \
	sql_as hotline_admin "$db" "UPDATE reservation_slots SET booked = 0"

# Reminders are the only deliveries the webhook may create or touch.
reminder=$(sql_as hotline_webhook "$db" "INSERT INTO deliveries (source, messages, target, status, send_at)
	VALUES ('reminder', '[{\"type\":\"text\",\"text\":\"本日のご予約\"}]', '{\"residents\":[$rid]}',
		'scheduled', '2030-01-07 08:00+09') RETURNING id")
like "webhook schedules a reminder" "$reminder" '^[0-9]+$'
check "webhook cancels its reminder" \
	sql_as hotline_webhook "$db" "UPDATE deliveries SET status = 'cancelled', cancelled_at = now() WHERE id = $reminder"
fails_with "webhook cannot send to everyone" 'violates row-level security policy' \
	sql_as hotline_webhook "$db" "INSERT INTO deliveries (source, messages, everyone, status, send_at)
		VALUES ('reminder', '[{\"type\":\"text\",\"text\":\"x\"}]', true, 'scheduled', now())"
fails_with "webhook cannot create a staff delivery" 'violates row-level security policy' \
	sql_as hotline_webhook "$db" "INSERT INTO deliveries (source, messages, target, status, send_at)
		VALUES ('staff', '[{\"type\":\"text\",\"text\":\"x\"}]', '{}', 'scheduled', now())"
is "webhook does not see other deliveries" \
	"$(sql_as hotline_webhook "$db" "SELECT count(*) FROM deliveries WHERE source <> 'reminder'")" "0"
check "webhook logs chatbot queries" \
	sql_as hotline_webhook "$db" "INSERT INTO chatbot_queries (kind, query_text, answered, review_status)
		VALUES ('text', '粗大ごみの出し方', false, 'open')"

# --- hotline_pusher ----------------------------------------------------------------

sql "$db" "INSERT INTO deliveries (source, messages, everyone, status, send_at) VALUES
	('system', '[{\"type\":\"text\",\"text\":\"later\"}]', true, 'scheduled', now() + interval '1 day')" >/dev/null
is "pusher picks the due delivery, skipping locked ones" \
	"$(sql_as hotline_pusher "$db" "SELECT id FROM deliveries WHERE status IN ('queued', 'scheduled')
		AND (send_at IS NULL OR send_at <= now())
		ORDER BY send_at NULLS FIRST, id FOR UPDATE SKIP LOCKED LIMIT 1")" "2"
is "the pickup query can use the due index" \
	"$(sql_as hotline_pusher "$db" "SET enable_seqscan = off; EXPLAIN (COSTS OFF)
		SELECT id FROM deliveries WHERE status IN ('queued', 'scheduled')
		AND (send_at IS NULL OR send_at <= now())
		ORDER BY send_at NULLS FIRST, id FOR UPDATE SKIP LOCKED LIMIT 1" | grep -c deliveries_due_idx)" "1"
check "pusher snapshots recipients into a batch" \
	sql_as hotline_pusher "$db" "
		INSERT INTO delivery_batches (delivery_id, batch_no, method, recipients, recipient_ids,
					      first_resident_id, last_resident_id)
			SELECT 2, 0, 'multicast', count(*), array_agg(id ORDER BY id), min(id), max(id)
			  FROM residents WHERE status = 'active';
		UPDATE deliveries SET status = 'sending', send_method = 'multicast', started_at = now(),
			targeted = (SELECT recipients FROM delivery_batches WHERE delivery_id = 2),
			planned_at = now()
		WHERE id = 2"
fails_with "a resident is in at most one batch of a delivery" 'delivery_batches_disjoint' \
	sql_as hotline_pusher "$db" "
		INSERT INTO delivery_batches (delivery_id, batch_no, method, recipients, recipient_ids,
					      first_resident_id, last_resident_id)
			VALUES (2, 1, 'multicast', 1, ARRAY[$rid]::bigint[], $rid, $rid)"
fails_with "a batch's snapshot is sorted without repeats" 'delivery_batches_snapshot' \
	sql_as hotline_pusher "$db" "
		INSERT INTO delivery_batches (delivery_id, batch_no, method, recipients, recipient_ids,
					      first_resident_id, last_resident_id)
			VALUES (2, 1, 'multicast', 2, ARRAY[900000, 900000]::bigint[], 900000, 900000)"
fails_with "a multicast batch holds at most 500 residents" 'delivery_batches_snapshot|recipients_check' \
	sql_as hotline_pusher "$db" "
		INSERT INTO delivery_batches (delivery_id, batch_no, method, recipients, recipient_ids,
					      first_resident_id, last_resident_id)
			SELECT 2, 1, 'multicast', 501, array_agg(g), 1000001, 1000501
			  FROM generate_series(1000001, 1000501) g"
check "pusher checkpoints a sent batch and finishes the delivery" \
	sql_as hotline_pusher "$db" "
		UPDATE delivery_batches SET status = 'sent', attempts = 1, sent_at = now(),
			line_request_id = 'req-1', http_status = 200 WHERE delivery_id = 2 AND batch_no = 0;
		UPDATE deliveries SET status = 'done', accepted = targeted, finished_at = now() WHERE id = 2"
is "the batch has a retry key" \
	"$(sql_as hotline_pusher "$db" "SELECT retry_key IS NOT NULL FROM delivery_batches WHERE delivery_id = 2")" "t"
check "pusher reads residents' targeting data" \
	sql_as hotline_pusher "$db" "SELECT r.line_user_id, c.value_id, d.value FROM residents r
		LEFT JOIN resident_choices c ON c.resident_id = r.id LEFT JOIN resident_dates d ON d.resident_id = r.id"
fails_with "pusher cannot read mail" 'permission denied for table mails' \
	sql_as hotline_pusher "$db" "SELECT raw FROM mails"
fails_with "pusher cannot read staff" 'permission denied for table staff' \
	sql_as hotline_pusher "$db" "SELECT login FROM staff"
fails_with "pusher cannot read webhook events" 'permission denied for table webhook_events' \
	sql_as hotline_pusher "$db" "SELECT body FROM webhook_events"
fails_with "pusher cannot rewrite a delivery's messages" 'permission denied for table deliveries' \
	sql_as hotline_pusher "$db" "UPDATE deliveries SET messages = '[]' WHERE id = 2"
fails_with "pusher cannot create deliveries" 'permission denied for table deliveries' \
	sql_as hotline_pusher "$db" "INSERT INTO deliveries (source, everyone, status) VALUES ('system', true, 'draft')"
fails_with "pusher cannot change residents" 'permission denied for table residents' \
	sql_as hotline_pusher "$db" "UPDATE residents SET is_tester = true"

# --- hotline_admin and the audit log ---------------------------------------------------

check "admin creates a staff account" \
	sql_as hotline_admin "$db" "INSERT INTO staff (login, display_name, role, password_hash)
		VALUES ('staff3', '職員三', 'staff', 'pbkdf2-sha256\$600000\$c2FsdA==\$aGFzaA==')"
check "admin scopes a staff account to segment values" \
	sql_as hotline_admin "$db" "INSERT INTO staff_segment_scope (staff_id, value_id, granted_by)
		SELECT 2, id, 1 FROM segment_values WHERE key IN ('kurabuchi', 'childcare')"
check "admin flags a test receiver" sql_as hotline_admin "$db" "UPDATE residents SET is_tester = true WHERE id = $rid"
check "admin reads the original mail" sql_as hotline_admin "$db" "SELECT raw FROM mails"
fails_with "admin cannot alter inbound mail" 'permission denied for table mails' \
	sql_as hotline_admin "$db" "UPDATE mails SET subject = 'x'"
fails_with "admin cannot delete staff (disable instead)" 'permission denied for table staff' \
	sql_as hotline_admin "$db" "DELETE FROM staff WHERE id = 3"
fails_with "a delivery cannot be approved by its author" 'deliveries_approver_differs' \
	sql_as hotline_admin "$db" "UPDATE deliveries SET approved_by = 1 WHERE id = 1"
fails_with "a delivery holds at most 5 messages" 'deliveries_messages_shape' \
	sql_as hotline_admin "$db" "UPDATE deliveries SET messages =
		(SELECT jsonb_agg(jsonb_build_object('type', 'text', 'text', n)) FROM generate_series(1, 6) n)
		WHERE id = 1"

audit() {	# audit DB ROLE VALUES-LIST
	sql_as "$2" "$1" "INSERT INTO audit_log (actor_staff_id, actor, action, target, detail, ip, user_agent)
		VALUES $3 RETURNING id"
}
is "admin appends to the audit log" \
	"$(audit "$db" hotline_admin "(1, 'admin1', 'staff.login', NULL, '{\"mfa\": true}', '192.0.2.10', 'Mozilla/5.0'),
		(1, 'admin1', 'delivery.send', 'delivery:2', '{\"title\": \"不審者情報\", \"count\": 3}', '192.0.2.10', NULL),
		(NULL, 'hotlinectl', 'staff.create', 'staff:3', '{}', NULL, NULL)" | tr '\n' ' ')" "1 2 3 "
is "the audit chain verifies" "$(sql_as hotline_admin "$db" "SELECT audit_verify() IS NULL")" "t"
is "audit ids and links are assigned by the trigger, not the caller" \
	"$(sql_as hotline_admin "$db" "INSERT INTO audit_log (id, actor, action, prev_hash, hash)
		VALUES (100, 'admin1', 'staff.logout', '\\x00', '\\x00') RETURNING id, octet_length(hash)")" "4|32"
is "each row links to the previous one" \
	"$(sql "$db" "SELECT count(*) FROM audit_log a JOIN audit_log b ON b.id = a.id - 1 WHERE a.prev_hash = b.hash")" "3"
for id in 1 2 3; do
	if [ "$id" = 1 ]; then
		prev=0000000000000000000000000000000000000000000000000000000000000000
	else
		prev=$(sql "$db" "SELECT encode(prev_hash, 'hex') FROM audit_log WHERE id = $id")
	fi
	is "audit row $id's hash follows docs/schema.md" \
		"$({ hex2bin "$prev"; canon_row "$db" "$id"; } | sha256sum | cut -d' ' -f1)" \
		"$(sql "$db" "SELECT encode(hash, 'hex') FROM audit_log WHERE id = $id")"
done
fails_with "admin cannot update the audit log" 'permission denied for table audit_log' \
	sql_as hotline_admin "$db" "UPDATE audit_log SET actor = 'x'"
fails_with "admin cannot delete from the audit log" 'permission denied for table audit_log' \
	sql_as hotline_admin "$db" "DELETE FROM audit_log"
fails_with "admin cannot truncate the audit log" 'permission denied for table audit_log' \
	sql_as hotline_admin "$db" "TRUNCATE audit_log"
fails_with "admin cannot move the chain head" 'permission denied for table audit_chain_head' \
	sql_as hotline_admin "$db" "UPDATE audit_chain_head SET last_id = 0"
for stmt in "UPDATE audit_log SET actor = 'x' WHERE id = 2" "DELETE FROM audit_log WHERE id = 4" "TRUNCATE audit_log"; do
	out=$(sql "$db" "$stmt" 2>&1)
	like "even the owner is refused: ${stmt%% *}" "$out" "audit_log is append-only: ${stmt%% *} refused"
done
out=$(sql "$db" "SET session_replication_role = replica; DELETE FROM audit_log" 2>&1)
like "replica mode does not bypass the guard" "$out" "append-only: DELETE refused"
fails_with "even the owner cannot move the chain head" 'audit_chain_head is maintained by the audit_log insert trigger' \
	sql "$db" "UPDATE audit_chain_head SET last_id = 0"
is "the audit log is intact after the refusals" "$(sql "$db" "SELECT count(*) || ':' || (audit_verify() IS NULL) FROM audit_log")" "4:true"

sql "$db" "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only;
	   UPDATE audit_log SET detail = '{\"title\": \"改ざん\"}' WHERE id = 2;
	   ALTER TABLE audit_log ENABLE ALWAYS TRIGGER audit_log_append_only" >/dev/null
is "an altered row is found" "$(sql "$db" "SELECT audit_verify()")" "2"

# Four writers at once, 25 single-row transactions each: the chain must
# still be one line with gapless ids.
for w in 1 2 3 4; do
	n=1
	while [ $n -le 25 ]; do
		echo "INSERT INTO audit_log (actor, action, detail) VALUES ('writer$w', 'test.concurrent', '{\"n\": $n}');"
		n=$((n + 1))
	done >"$tap_tmp/audit$w.sql"
	sql_as hotline_admin "$db2" "SELECT 1" >/dev/null	# fail here, not in the background
	psql -X -q -v ON_ERROR_STOP=1 -U hotline_admin -d "$db2" -f "$tap_tmp/audit$w.sql" >"$tap_tmp/audit$w.out" 2>&1 &
done
wait
is "concurrent audit writers: one gapless, intact chain" \
	"$(sql "$db2" "SELECT count(*) || ':' || max(id) || ':' || (audit_verify() IS NULL) FROM audit_log")" "100:100:true"
sql "$db2" "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only; DELETE FROM audit_log WHERE id = 100" >/dev/null
is "a removed tail is found" "$(sql "$db2" "SELECT audit_verify()")" "100"
sql "$db2" "DELETE FROM audit_log WHERE id = 2" >/dev/null
is "a removed row is found" "$(sql "$db2" "SELECT audit_verify()")" "2"

# --- NOTIFY for the pusher ----------------------------------------------------------

notify_out=$(psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$db" -f - 2>&1 <<'EOF'
LISTEN hotline_delivery;
INSERT INTO deliveries (source, messages, target, status, created_by)
	VALUES ('staff', '[{"type":"text","text":"draft"}]', '{}', 'draft', 1);
SELECT 'after draft';
UPDATE deliveries SET status = 'queued' WHERE id = (SELECT max(id) FROM deliveries);
SELECT 'after queue';
INSERT INTO deliveries (source, messages, everyone, status, send_at)
	VALUES ('system', '[{"type":"text","text":"x"}]', true, 'scheduled', now() + interval '1 hour');
SELECT 'after schedule';
UPDATE deliveries SET status = 'cancelled', cancelled_at = now() WHERE id = (SELECT max(id) FROM deliveries);
SELECT 'after cancel';
EOF
)
last=$(sql "$db" "SELECT max(id) FROM deliveries")
is "NOTIFY hotline_delivery on queue and schedule, not on draft or cancel" \
	"$(printf '%s\n' "$notify_out" | sed -n 's/^Asynchronous notification "\([a-z_]*\)" with payload "\([0-9]*\)".*/\1:\2/p; /^after/p' | tr '\n' ' ')" \
	"after draft hotline_delivery:$((last - 1)) after queue hotline_delivery:$last after schedule after cancel "

tap_done
