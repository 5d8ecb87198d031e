-- 0011_admin_auth — failed staff sign-ins counted per client address.
--
-- staff.failed_logins slows down guessing one account's password; this
-- table slows down one address trying many accounts (or many logins that
-- do not exist, which have no staff row to count on).  hotline-admin
-- upserts a row on each failure and refuses sign-in from the address while
-- locked_until is in the future; a count older than the longest lockout
-- starts again from 1.

CREATE TABLE staff_login_failures (
	ip             inet PRIMARY KEY,
	failures       integer NOT NULL DEFAULT 0 CHECK (failures >= 0),
	locked_until   timestamptz,
	last_failed_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE staff_login_failures IS
	'Failed admin sign-ins per client address, for the per-address lockout (the per-account one is staff.failed_logins/locked_until).';
COMMENT ON COLUMN staff_login_failures.failures IS 'Failures from this address since the count last restarted.';
COMMENT ON COLUMN staff_login_failures.locked_until IS 'Sign-in from this address refused until then.';
COMMENT ON COLUMN staff_login_failures.last_failed_at IS 'Latest failure; a count older than [admin] lockout_max_seconds restarts.';
CREATE INDEX staff_login_failures_last_idx ON staff_login_failures (last_failed_at);

GRANT SELECT, INSERT, UPDATE, DELETE ON staff_login_failures TO hotline_admin;
