-- 0001_roles_and_settings — database-wide settings, the daemons' roles,
-- shared trigger functions and the runtime settings table.
--
-- Runs inside the migration runner's transaction: no BEGIN/COMMIT here.
-- What each role may do is granted in 0008_grants.sql, in one place.

-- The schema stores Japanese text and the audit chain hashes UTF-8 bytes
-- (see docs/schema.md): refuse to build it on any other encoding.
DO $$
BEGIN
	IF pg_catalog.getdatabaseencoding() <> 'UTF8' THEN
		RAISE EXCEPTION 'hotline needs a UTF8 database; % uses %',
			current_database(), pg_catalog.getdatabaseencoding();
	END IF;
END
$$;

-- The city's zone, so that dates typed by staff ("the 3rd at 10:00") and
-- "today" in reminders mean Takasaki time in every session, whatever the
-- server's own zone.  Applies to sessions opened after this migration.
DO $$
BEGIN
	EXECUTE format('ALTER DATABASE %I SET timezone TO %L', current_database(), 'Asia/Tokyo');
END
$$;

-- One LOGIN role per daemon.  Roles belong to the whole cluster and many
-- databases (tests, staging) share one cluster, so creation is idempotent
-- and tolerates a concurrent migration creating the same role: the loser
-- of that race gets unique_violation on pg_authid, not duplicate_object.
-- Attributes are only altered when they differ, because concurrent ALTER
-- ROLE of one role fails with "tuple concurrently updated".
-- No passwords here: operators set them (ALTER ROLE ... PASSWORD) or map
-- Unix users with peer authentication.
DO $$
DECLARE
	r record;
BEGIN
	FOR r IN
		SELECT * FROM (VALUES
			('hotline_ingest',  'hotline mail bridge (LMTP receiver, milter, IMAP fetcher)'),
			('hotline_pusher',  'hotline pusher (LINE fan-out worker)'),
			('hotline_webhook', 'hotline webhook and resident pages (internet-facing)'),
			('hotline_admin',   'hotline staff admin server')
		) AS t(name, what)
	LOOP
		IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r.name) THEN
			BEGIN
				EXECUTE format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE'
					       ' NOREPLICATION NOBYPASSRLS', r.name);
				EXECUTE format('COMMENT ON ROLE %I IS %L', r.name, r.what);
			EXCEPTION
				WHEN duplicate_object OR unique_violation THEN
					NULL;	-- created meanwhile by another database's migration
			END;
		ELSIF EXISTS (SELECT 1 FROM pg_catalog.pg_roles
			      WHERE rolname = r.name
				AND (NOT rolcanlogin OR rolsuper OR rolcreatedb OR rolcreaterole
				     OR rolreplication OR rolbypassrls)) THEN
			-- Someone widened (or locked) the role by hand: put it back.
			EXECUTE format('ALTER ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE'
				       ' NOREPLICATION NOBYPASSRLS', r.name);
		END IF;
	END LOOP;
END
$$;

-- Functions the migration owner creates in this database from now on are
-- not executable by PUBLIC (PostgreSQL's default is that they are); each
-- EXECUTE is granted explicitly in the grants.  No IN SCHEMA: per-schema
-- default privileges can only add to the global ones, never take away.
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;

-- Shared trigger functions -------------------------------------------------

-- Keeps updated_at honest whatever the application sends.
CREATE FUNCTION set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	NEW.updated_at := now();
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION set_updated_at() IS
	'BEFORE UPDATE trigger: sets updated_at to the transaction time.';

-- Stable ASCII keys are what stored filters (deliveries.target, mail rules)
-- and code refer to; renaming one would silently change what they mean.
-- Labels can be renamed freely, keys never.
CREATE FUNCTION refuse_key_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.key IS DISTINCT FROM OLD.key THEN
		RAISE EXCEPTION '%.key is permanent (% -> %): change the label instead, or retire the row',
			TG_TABLE_NAME, OLD.key, NEW.key
			USING ERRCODE = 'check_violation';
	END IF;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION refuse_key_change() IS
	'BEFORE UPDATE trigger: refuses a change of the stable ASCII column "key".';

-- Runtime settings -----------------------------------------------------------

CREATE TABLE settings (
	key         text PRIMARY KEY
		    CHECK (key ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$'),
	value       jsonb NOT NULL,
	description text NOT NULL DEFAULT '',
	updated_at  timestamptz NOT NULL DEFAULT now(),
	updated_by  bigint,	-- FK to staff added in 0002 (staff does not exist yet)
	-- Settings whose values the daemons switch on get their domain checked
	-- here, so a bad value is refused on save rather than at 3 a.m.
	CONSTRAINT settings_richmenu_active_set
		CHECK (key <> 'richmenu.active_set' OR value IN ('"normal"', '"disaster"')),
	CONSTRAINT settings_boolean_flags
		CHECK (key NOT IN ('delivery.require_approval') OR jsonb_typeof(value) = 'boolean')
);
COMMENT ON TABLE settings IS
	'Runtime settings staff change in the admin UI (static configuration lives in hotline.conf). Keys are dotted lower-case names; see docs/schema.md for the known keys.';
COMMENT ON COLUMN settings.value IS 'The setting as JSON (a string, number, boolean, object...).';
COMMENT ON COLUMN settings.updated_by IS 'Staff account that last changed it; NULL when set by a migration or hotlinectl.';

CREATE TRIGGER settings_updated_at BEFORE UPDATE ON settings
	FOR EACH ROW EXECUTE FUNCTION set_updated_at();

INSERT INTO settings (key, value, description) VALUES
	('richmenu.active_set', '"normal"',
	 'Rich menu set shown to residents: "normal" or "disaster" (spec 4(1) 6).'),
	('delivery.require_approval', 'false',
	 'When true, a staff delivery needs a second staff member''s approval before it is sent.');
