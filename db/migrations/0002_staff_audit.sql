-- 0002_staff_audit — departments, staff accounts, MFA, sessions, and the
-- append-only, hash-chained audit log.
--
-- Staff rows are never deleted once they have done anything: deliveries,
-- rules and the audit log refer to them with plain (NO ACTION) foreign
-- keys, so such a DELETE fails.  Accounts are disabled instead.

CREATE TABLE departments (
	id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name       text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100),
	retired_at timestamptz,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE departments IS
	'City departments (課). Staff belong to one; reservation services and chatbot data are owned by one, so that a department''s staff maintain their own (spec 4(2) 5, 4(5) 7).';
COMMENT ON COLUMN departments.retired_at IS 'Set when the department no longer exists; kept for history.';
CREATE TRIGGER departments_updated_at BEFORE UPDATE ON departments
	FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE staff (
	id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	login            text NOT NULL UNIQUE
			 CHECK (login ~ '^[a-z0-9][a-z0-9._@-]{2,63}$'),
	display_name     text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 100),
	department_id    bigint REFERENCES departments,
	role             text NOT NULL CHECK (role IN ('admin', 'staff')),
	password_hash    text NOT NULL CHECK (length(password_hash) BETWEEN 1 AND 255),
	password_changed_at timestamptz NOT NULL DEFAULT now(),
	totp_secret      bytea,
	totp_enabled     boolean NOT NULL DEFAULT false,
	totp_last_step   bigint,
	failed_logins    integer NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
	locked_until     timestamptz,
	disabled_at      timestamptz,
	last_login_at    timestamptz,
	created_at       timestamptz NOT NULL DEFAULT now(),
	updated_at       timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT staff_totp_needs_secret CHECK (NOT totp_enabled OR totp_secret IS NOT NULL)
);
COMMENT ON TABLE staff IS
	'City staff accounts of the admin UI. Never deleted once used (history refers to them): set disabled_at instead.';
COMMENT ON COLUMN staff.login IS 'Sign-in name, lower case (the application folds case before lookup).';
COMMENT ON COLUMN staff.role IS 'admin = 管理者 (everything); staff = 一般職員 (limited functions, only the segment values in staff_segment_scope).';
COMMENT ON COLUMN staff.department_id IS 'Department (課) the account belongs to; NULL for accounts outside any department (e.g. the first admin).';
COMMENT ON COLUMN staff.password_hash IS 'Stored form pbkdf2-sha256$<iterations>$<salt b64>$<hash b64> (lib/password.h); never the password.';
COMMENT ON COLUMN staff.totp_secret IS 'RFC 6238 shared secret, encrypted by the application before it is stored (the database never sees it in clear).';
COMMENT ON COLUMN staff.totp_enabled IS 'True once the account has confirmed enrolment with a valid code; sign-in then requires a TOTP code.';
COMMENT ON COLUMN staff.totp_last_step IS 'Time step (unix time / 30) of the last accepted TOTP code, so that a code cannot be replayed (RFC 6238 5.2).';
COMMENT ON COLUMN staff.failed_logins IS 'Consecutive failed sign-ins; reset on success. Drives the lockout back-off.';
COMMENT ON COLUMN staff.locked_until IS 'Sign-in refused until this time (lockout after repeated failures).';
COMMENT ON COLUMN staff.disabled_at IS 'Set when the account is disabled; a disabled account cannot sign in and its sessions are deleted.';
CREATE INDEX staff_department_idx ON staff (department_id);
CREATE TRIGGER staff_updated_at BEFORE UPDATE ON staff
	FOR EACH ROW EXECUTE FUNCTION set_updated_at();

ALTER TABLE settings ADD CONSTRAINT settings_updated_by_fkey
	FOREIGN KEY (updated_by) REFERENCES staff;

CREATE TABLE staff_recovery_codes (
	id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	staff_id   bigint NOT NULL REFERENCES staff ON DELETE CASCADE,
	code_hash  text NOT NULL,
	used_at    timestamptz,
	created_at timestamptz NOT NULL DEFAULT now(),
	UNIQUE (staff_id, code_hash)
);
COMMENT ON TABLE staff_recovery_codes IS
	'One-time MFA recovery codes, hashed. Regenerating deletes the old set; a used code keeps used_at.';
COMMENT ON COLUMN staff_recovery_codes.code_hash IS 'Hash of the code in the same stored form as staff.password_hash; never the code.';

CREATE TABLE staff_sessions (
	id_hash      bytea PRIMARY KEY CHECK (octet_length(id_hash) = 32),
	staff_id     bigint NOT NULL REFERENCES staff ON DELETE CASCADE,
	csrf_hash    bytea NOT NULL CHECK (octet_length(csrf_hash) = 32),
	mfa_at       timestamptz,
	created_at   timestamptz NOT NULL DEFAULT now(),
	last_seen_at timestamptz NOT NULL DEFAULT now(),
	expires_at   timestamptz NOT NULL,
	ip           inet,
	user_agent   text CHECK (length(user_agent) <= 512),
	CHECK (expires_at > created_at)
);
COMMENT ON TABLE staff_sessions IS
	'Signed-in admin sessions. Only hashes are stored, so a copy of this table cannot be replayed as cookies.';
COMMENT ON COLUMN staff_sessions.id_hash IS 'SHA-256 of the random session cookie value.';
COMMENT ON COLUMN staff_sessions.csrf_hash IS 'SHA-256 of the session''s CSRF token.';
COMMENT ON COLUMN staff_sessions.mfa_at IS 'When the TOTP (or recovery) code was accepted; NULL while the session has passed the password step only.';
COMMENT ON COLUMN staff_sessions.last_seen_at IS 'Last request; the idle timeout counts from here.';
COMMENT ON COLUMN staff_sessions.expires_at IS 'Absolute timeout, fixed at sign-in.';
CREATE INDEX staff_sessions_staff_idx ON staff_sessions (staff_id);
CREATE INDEX staff_sessions_expires_idx ON staff_sessions (expires_at);

-- Audit log -------------------------------------------------------------------
--
-- Append-only and tamper-evident.  Each row carries hash = sha256(prev_hash
-- || canonical text of the row), prev_hash being the previous row's hash
-- (32 zero bytes for row 1).  The canonical text is specified byte for byte
-- in docs/schema.md ("Audit chain") for `hotlinectl audit verify`.
--
-- Chain order is id order and ids are gapless: the insert trigger assigns
-- the id itself while holding the lock on the one-row chain head.  An
-- identity column would not do: its value is drawn before the trigger
-- waits for the lock, so two concurrent inserts could be chained in the
-- opposite order of their ids, and a rolled-back insert would leave a gap
-- indistinguishable from a deleted row.

CREATE TABLE audit_log (
	id             bigint PRIMARY KEY,
	at             timestamptz NOT NULL,
	actor_staff_id bigint REFERENCES staff,
	actor          text NOT NULL CHECK (length(actor) BETWEEN 1 AND 200),
	action         text NOT NULL CHECK (action ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$'),
	target         text CHECK (length(target) <= 200),
	detail         jsonb NOT NULL DEFAULT '{}',
	ip             inet,
	user_agent     text CHECK (length(user_agent) <= 512),
	prev_hash      bytea NOT NULL CHECK (octet_length(prev_hash) = 32),
	hash           bytea NOT NULL CHECK (octet_length(hash) = 32)
);
COMMENT ON TABLE audit_log IS
	'Every staff action (sign-in, failed sign-in, send, schedule, cancel, rule or permission change, export...) and operator action. Append-only: UPDATE, DELETE and TRUNCATE are refused by trigger even for the owner. Hash-chained; audit_verify() and hotlinectl audit verify check it.';
COMMENT ON COLUMN audit_log.id IS 'Chain position, 1, 2, 3... without gaps; assigned by the insert trigger (any value supplied is replaced).';
COMMENT ON COLUMN audit_log.at IS 'Set by the insert trigger (clock_timestamp() under the chain lock), never by the caller.';
COMMENT ON COLUMN audit_log.actor_staff_id IS 'Staff account that acted; NULL for hotlinectl, the system, or a failed sign-in to an unknown login.';
COMMENT ON COLUMN audit_log.actor IS 'Who, as text at the time: the staff login, "hotlinectl", "system", or the login name tried in a failed sign-in.';
COMMENT ON COLUMN audit_log.action IS 'What, as a dotted name: staff.login, staff.login_failed, staff.create, delivery.send, delivery.cancel, rule.update, export.csv...';
COMMENT ON COLUMN audit_log.target IS 'What it was done to, as "<kind>:<id>" (e.g. staff:12, delivery:345); NULL when nothing in particular.';
COMMENT ON COLUMN audit_log.detail IS 'Details of the action as a JSON object (old/new values, counts...). No passwords, secrets or message bodies.';
COMMENT ON COLUMN audit_log.ip IS 'From where: the client address seen by the admin server.';
COMMENT ON COLUMN audit_log.prev_hash IS 'hash of the row with id - 1; 32 zero bytes for id 1.';
COMMENT ON COLUMN audit_log.hash IS 'sha256(prev_hash || convert_to(audit_canonical(row), ''UTF8'')).';
CREATE INDEX audit_log_at_idx ON audit_log (at);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_staff_id, at);
CREATE INDEX audit_log_action_idx ON audit_log (action, at);

CREATE TABLE audit_chain_head (
	singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
	last_id   bigint NOT NULL CHECK (last_id >= 0),
	last_hash bytea NOT NULL CHECK (octet_length(last_hash) = 32)
);
COMMENT ON TABLE audit_chain_head IS
	'One row: the id and hash of the newest audit_log row. Its row lock serialises audit inserts, and it reveals a deleted tail of the chain. Written only by the audit_log insert trigger.';
INSERT INTO audit_chain_head (last_id, last_hash) VALUES (0, decode(repeat('00', 32), 'hex'));

-- The canonical text of a row: one line per field, in this order, as
--   <name>=-            for NULL
--   <name>=<n>:<value>  otherwise, n = the value's length in UTF-8 bytes,
-- each line ending in LF, after a first line "hotline-audit-v1".  The length
-- prefix makes it unambiguous whatever the values contain (LF, '=', ':').
CREATE FUNCTION audit_canonical(r audit_log) RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, public
AS $$
	SELECT 'hotline-audit-v1' || E'\n' || string_agg(
		f.name || '=' || CASE WHEN f.value IS NULL THEN '-'
				      ELSE octet_length(f.value)::text || ':' || f.value END || E'\n',
		'' ORDER BY f.n)
	FROM (VALUES
		(1, 'id',             r.id::text),
		(2, 'at',             ((extract(epoch FROM r.at) * 1000000)::bigint)::text),
		(3, 'actor_staff_id', r.actor_staff_id::text),
		(4, 'actor',          r.actor),
		(5, 'action',         r.action),
		(6, 'target',         r.target),
		(7, 'detail',         r.detail::text),
		-- format(): inet's output function, as libpq returns it
		-- (192.0.2.1); a ::text cast would add the mask (192.0.2.1/32).
		(8, 'ip',             CASE WHEN r.ip IS NOT NULL THEN format('%s', r.ip) END),
		(9, 'user_agent',     r.user_agent)
	) AS f(n, name, value)
$$;
COMMENT ON FUNCTION audit_canonical(audit_log) IS
	'Canonical text of an audit_log row, the input of its hash after prev_hash. Specified in docs/schema.md.';

-- SECURITY DEFINER: the inserting role (hotline_admin) holds no privilege on
-- audit_chain_head, so it cannot move the head by hand.
CREATE FUNCTION audit_log_chain() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
DECLARE
	head audit_chain_head;
BEGIN
	-- The row lock is held to the end of the transaction: audit inserts
	-- are serialised, so the chain is a line, never a tree.
	SELECT * INTO STRICT head FROM audit_chain_head FOR UPDATE;
	NEW.id := head.last_id + 1;
	NEW.at := clock_timestamp();
	NEW.prev_hash := head.last_hash;
	NEW.hash := sha256(NEW.prev_hash || convert_to(audit_canonical(NEW), 'UTF8'));
	UPDATE audit_chain_head SET last_id = NEW.id, last_hash = NEW.hash;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION audit_log_chain() IS
	'BEFORE INSERT trigger on audit_log: assigns id and at, links the row to the chain head and computes its hash.';

CREATE FUNCTION audit_log_refuse() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
		USING ERRCODE = 'insufficient_privilege',
		      HINT = 'Audit rows are never changed or removed; record a new row instead.';
END
$$;
COMMENT ON FUNCTION audit_log_refuse() IS
	'Statement trigger refusing UPDATE, DELETE and TRUNCATE on audit_log.';

-- The head may only move from inside audit_log_chain() (trigger depth 2);
-- any direct change would hide a removed tail.
CREATE FUNCTION audit_chain_head_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'UPDATE' AND pg_trigger_depth() > 1 THEN
		RETURN NEW;
	END IF;
	RAISE EXCEPTION 'audit_chain_head is maintained by the audit_log insert trigger: % refused', TG_OP
		USING ERRCODE = 'insufficient_privilege';
END
$$;
COMMENT ON FUNCTION audit_chain_head_guard() IS
	'Trigger refusing any change to audit_chain_head other than the audit_log insert trigger''s.';

CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log
	FOR EACH ROW EXECUTE FUNCTION audit_log_chain();
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
	FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse();
CREATE TRIGGER audit_chain_head_guard BEFORE INSERT OR UPDATE OR DELETE ON audit_chain_head
	FOR EACH ROW EXECUTE FUNCTION audit_chain_head_guard();
CREATE TRIGGER audit_chain_head_no_truncate BEFORE TRUNCATE ON audit_chain_head
	FOR EACH STATEMENT EXECUTE FUNCTION audit_chain_head_guard();
-- ENABLE ALWAYS: the triggers fire even with session_replication_role =
-- replica, which would otherwise let a superuser skip them silently.
-- (A superuser can still DISABLE them explicitly; the chain then shows it.)
ALTER TABLE audit_log ENABLE ALWAYS TRIGGER audit_log_chain;
ALTER TABLE audit_log ENABLE ALWAYS TRIGGER audit_log_append_only;
ALTER TABLE audit_chain_head ENABLE ALWAYS TRIGGER audit_chain_head_guard;
ALTER TABLE audit_chain_head ENABLE ALWAYS TRIGGER audit_chain_head_no_truncate;

-- Recomputes the chain.  Returns the id of the first row that is wrong, or
-- NULL when the chain is intact:
--   * a row whose hash does not match its contents -> that row's id;
--   * a row whose prev_hash is not its predecessor's hash -> that row's id;
--   * a gap (rows removed in the middle) -> the first missing id;
--   * a removed tail (the head is ahead of the last row) -> the first
--     missing id (last row's id + 1);
--   * a head whose hash differs from the last row's -> the last row's id.
CREATE FUNCTION audit_verify() RETURNS bigint
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, public
AS $$
DECLARE
	r           audit_log;
	head        audit_chain_head;
	expect_id   bigint := 1;
	expect_prev bytea := decode(repeat('00', 32), 'hex');
BEGIN
	FOR r IN SELECT * FROM audit_log ORDER BY id LOOP
		IF r.id <> expect_id THEN
			RETURN expect_id;
		END IF;
		IF r.prev_hash <> expect_prev
		   OR r.hash <> sha256(r.prev_hash || convert_to(audit_canonical(r), 'UTF8')) THEN
			RETURN r.id;
		END IF;
		expect_id := r.id + 1;
		expect_prev := r.hash;
	END LOOP;
	SELECT * INTO STRICT head FROM audit_chain_head;
	IF head.last_id <> expect_id - 1 THEN
		RETURN expect_id;
	END IF;
	IF head.last_hash <> expect_prev THEN
		RETURN expect_id - 1;
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION audit_verify() IS
	'Recomputes the audit chain; returns the first broken id, or NULL when intact. Cross-check for hotlinectl audit verify.';
