-- 0004_mail_deliveries — deliveries and their fan-out state, the mail
-- bridge's inbound mail log, its rules, and IMAP fetch state.
--
-- Exactly-once fan-out rests on three things here: the recipient snapshot
-- (a resident appears at most once per delivery), per-batch checkpoints
-- with a persisted LINE retry key, and row locks taken with
-- FOR UPDATE SKIP LOCKED on indexed "due" predicates.

CREATE TABLE deliveries (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	source      text NOT NULL CHECK (source IN ('mail', 'staff', 'reminder', 'system')),
	title       text NOT NULL DEFAULT '' CHECK (length(title) <= 200),
	messages    jsonb NOT NULL DEFAULT '[]',
	everyone    boolean NOT NULL DEFAULT false,
	target      jsonb,
	is_test     boolean NOT NULL DEFAULT false,
	status      text NOT NULL DEFAULT 'draft' CHECK (status IN (
			'draft', 'pending_approval', 'scheduled', 'queued', 'sending',
			'done', 'failed', 'cancelled', 'held')),
	hold_reason text,
	send_at     timestamptz,
	send_method text CHECK (send_method IN ('broadcast', 'multicast', 'push')),
	created_by  bigint REFERENCES staff,
	approved_by bigint REFERENCES staff,
	approved_at timestamptz,
	cancelled_by bigint REFERENCES staff,
	cancelled_at timestamptz,
	targeted    integer NOT NULL DEFAULT 0 CHECK (targeted >= 0),
	accepted    integer NOT NULL DEFAULT 0 CHECK (accepted >= 0),
	failed      integer NOT NULL DEFAULT 0 CHECK (failed >= 0),
	error       text,
	started_at  timestamptz,
	finished_at timestamptz,
	created_at  timestamptz NOT NULL DEFAULT now(),
	updated_at  timestamptz NOT NULL DEFAULT now(),
	-- LINE accepts 1-5 message objects per request, and a delivery is sent
	-- as one request per batch.  (CASE: jsonb_array_length() raises on a
	-- non-array, and AND does not guarantee evaluation order.)
	CONSTRAINT deliveries_messages_shape CHECK (CASE
		WHEN jsonb_typeof(messages) <> 'array' THEN false
		ELSE jsonb_array_length(messages) <= 5
		     AND (status = 'draft' OR jsonb_array_length(messages) >= 1) END),
	CONSTRAINT deliveries_target_shape CHECK (target IS NULL OR jsonb_typeof(target) = 'object'),
	CONSTRAINT deliveries_everyone_xor_target CHECK (NOT (everyone AND target IS NOT NULL)),
	-- A draft is being written; a held one waits for staff to choose.
	CONSTRAINT deliveries_has_audience CHECK (everyone OR is_test OR target IS NOT NULL
		OR status IN ('draft', 'held')),
	CONSTRAINT deliveries_held_has_reason CHECK (status <> 'held' OR hold_reason IS NOT NULL),
	CONSTRAINT deliveries_scheduled_has_time CHECK (status <> 'scheduled' OR send_at IS NOT NULL),
	CONSTRAINT deliveries_staff_has_author CHECK (source <> 'staff' OR created_by IS NOT NULL),
	-- The second pair of eyes (issue 7) must be a different person.
	CONSTRAINT deliveries_approver_differs CHECK (approved_by IS NULL OR approved_by IS DISTINCT FROM created_by),
	CONSTRAINT deliveries_finished_has_time CHECK (status NOT IN ('done', 'failed') OR finished_at IS NOT NULL),
	CONSTRAINT deliveries_counts CHECK (accepted + failed <= targeted)
);
COMMENT ON TABLE deliveries IS
	'A message to residents: from a mail alert, composed by staff, a reservation reminder, or the system. The pusher fans it out in batches (delivery_batches).';
COMMENT ON COLUMN deliveries.source IS 'mail = from the mail bridge; staff = composed in the admin UI; reminder = reservation reminder; system = hotline itself.';
COMMENT ON COLUMN deliveries.title IS 'Short label for history lists (the mail subject, the composer''s title); not sent.';
COMMENT ON COLUMN deliveries.messages IS 'JSON array of 1-5 LINE message objects (text, flex...) exactly as sent to the Messaging API.';
COMMENT ON COLUMN deliveries.everyone IS 'Send to every friend (one broadcast, or multicast to all active residents). Excludes target.';
COMMENT ON COLUMN deliveries.target IS 'Segment filter (JSON object over segment item/value keys, see docs/schema.md); NULL when everyone.';
COMMENT ON COLUMN deliveries.is_test IS 'Test delivery: sent only to residents with is_tester, whatever the target.';
COMMENT ON COLUMN deliveries.status IS 'draft -> pending_approval -> scheduled/queued -> sending -> done/failed; cancelled before sending; held = stopped for staff (see hold_reason).';
COMMENT ON COLUMN deliveries.hold_reason IS 'Why a delivery is held: no keyword matched and the fallback is "hold", over the monthly quota, ...';
COMMENT ON COLUMN deliveries.send_at IS 'When to send; NULL = as soon as possible. A scheduled delivery is cancellable until it starts.';
COMMENT ON COLUMN deliveries.send_method IS 'How the pusher sent it (broadcast, multicast, push); NULL until it starts.';
COMMENT ON COLUMN deliveries.created_by IS 'Staff account that composed it; NULL for mail, reminder and system deliveries.';
COMMENT ON COLUMN deliveries.approved_by IS 'Second staff member who approved it (when approval is required); never the author.';
COMMENT ON COLUMN deliveries.targeted IS 'Recipients in the snapshot (or the follower count for a broadcast).';
COMMENT ON COLUMN deliveries.accepted IS 'Recipients in batches LINE accepted (2xx, or 409 with x-line-accepted-request-id).';
COMMENT ON COLUMN deliveries.failed IS 'Recipients in batches that failed for good.';
COMMENT ON COLUMN deliveries.error IS 'Why the delivery failed as a whole, when it did.';
-- The pusher's pickup of due work:
--   SELECT ... FROM deliveries WHERE status IN ('queued', 'scheduled')
--     AND (send_at IS NULL OR send_at <= now())
--   ORDER BY send_at NULLS FIRST, id FOR UPDATE SKIP LOCKED LIMIT n;
-- and of the next timer (the earliest scheduled send_at).
CREATE INDEX deliveries_due_idx ON deliveries (send_at NULLS FIRST, id)
	WHERE status IN ('queued', 'scheduled');
-- Deliveries being sent, for a pusher resuming after a crash.
CREATE INDEX deliveries_sending_idx ON deliveries (id) WHERE status = 'sending';
CREATE INDEX deliveries_created_idx ON deliveries (created_at);
CREATE INDEX deliveries_created_by_idx ON deliveries (created_by, created_at);
CREATE TRIGGER deliveries_updated_at BEFORE UPDATE ON deliveries
	FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- NOTIFY the pusher when there is something to send or a new timer to set.
-- The notification is delivered at commit, so the pusher never sees a
-- delivery that is not there yet; duplicates in one transaction collapse.
CREATE FUNCTION deliveries_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('hotline_delivery', NEW.id::text);
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION deliveries_notify() IS
	'AFTER trigger: NOTIFY hotline_delivery with the delivery id when it becomes queued or scheduled (or its send_at moves).';
CREATE TRIGGER deliveries_notify_insert AFTER INSERT ON deliveries
	FOR EACH ROW WHEN (NEW.status IN ('queued', 'scheduled'))
	EXECUTE FUNCTION deliveries_notify();
CREATE TRIGGER deliveries_notify_update AFTER UPDATE OF status, send_at ON deliveries
	FOR EACH ROW WHEN (NEW.status IN ('queued', 'scheduled')
			   AND (OLD.status IS DISTINCT FROM NEW.status
				OR OLD.send_at IS DISTINCT FROM NEW.send_at))
	EXECUTE FUNCTION deliveries_notify();

CREATE TABLE delivery_batches (
	delivery_id     bigint NOT NULL REFERENCES deliveries ON DELETE RESTRICT,
	batch_no        integer NOT NULL CHECK (batch_no >= 0),
	method          text NOT NULL CHECK (method IN ('broadcast', 'multicast', 'push')),
	recipients      integer NOT NULL DEFAULT 0 CHECK (recipients BETWEEN 0 AND 500),
	retry_key       uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
	status          text NOT NULL DEFAULT 'pending'
			CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'skipped')),
	attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
	next_attempt_at timestamptz NOT NULL DEFAULT now(),
	line_request_id text,
	http_status     integer CHECK (http_status BETWEEN 100 AND 599),
	error           text,
	sent_at         timestamptz,
	created_at      timestamptz NOT NULL DEFAULT now(),
	updated_at      timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (delivery_id, batch_no),
	CONSTRAINT delivery_batches_sent_has_time CHECK (status <> 'sent' OR sent_at IS NOT NULL)
);
COMMENT ON TABLE delivery_batches IS
	'One LINE request of a delivery (a broadcast, or a multicast to up to 500 residents): the checkpoint unit. Deliveries with batches cannot be deleted (history).';
COMMENT ON COLUMN delivery_batches.retry_key IS 'X-Line-Retry-Key for this batch, fixed when the batch is planned, so a resend after a crash is recognised by LINE (409) and not delivered twice.';
COMMENT ON COLUMN delivery_batches.status IS 'pending = not yet sent; sending = a request may be in flight (resend with the same retry key); sent = accepted by LINE; failed = refused for good (4xx other than 409/429); skipped = planned but never sent because the pusher changed method (a broadcast over LINE''s hourly limit replaced by multicast batches).';
COMMENT ON COLUMN delivery_batches.attempts IS 'Requests made so far (for back-off).';
COMMENT ON COLUMN delivery_batches.next_attempt_at IS 'Not before this time (exponential back-off, Retry-After).';
COMMENT ON COLUMN delivery_batches.line_request_id IS 'x-line-request-id of the accepted request, or x-line-accepted-request-id of a 409.';
COMMENT ON COLUMN delivery_batches.error IS 'LINE''s error (message and details) of the last failed attempt.';
-- Pickup of due batches by several pushers at once:
--   ... WHERE status IN ('pending', 'sending') AND next_attempt_at <= now()
--   ORDER BY next_attempt_at FOR UPDATE SKIP LOCKED LIMIT n
CREATE INDEX delivery_batches_due_idx ON delivery_batches (next_attempt_at)
	WHERE status IN ('pending', 'sending');
CREATE TRIGGER delivery_batches_updated_at BEFORE UPDATE ON delivery_batches
	FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- No foreign key to residents, deliberately: the snapshot of a 1,000,000
-- resident delivery is written at hundreds of thousands of rows a second,
-- and a per-row FK check would dominate.  A resident deleted later leaves
-- an opaque number here; the pusher joins residents when it sends.
CREATE TABLE delivery_recipients (
	delivery_id bigint NOT NULL,
	batch_no    integer NOT NULL,
	resident_id bigint NOT NULL,
	PRIMARY KEY (delivery_id, batch_no, resident_id),
	FOREIGN KEY (delivery_id, batch_no) REFERENCES delivery_batches ON DELETE CASCADE
);
COMMENT ON TABLE delivery_recipients IS
	'Recipient snapshot: who each batch of a delivery goes to, fixed when the delivery starts, so a restarted pusher resends exactly the same batches.';
-- Exactly once, as a constraint: a resident is in at most one batch of a delivery.
CREATE UNIQUE INDEX delivery_recipients_once ON delivery_recipients (delivery_id, resident_id);

-- Inbound mail ----------------------------------------------------------------

CREATE TABLE mails (
	id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	received_at   timestamptz NOT NULL DEFAULT now(),
	via           text NOT NULL CHECK (via IN ('lmtp', 'milter', 'imap')),
	source_ref    text,
	dedupe_key    text NOT NULL UNIQUE CHECK (dedupe_key ~ '^(mid|sha256):.'),
	message_id    text,
	envelope_from text NOT NULL,
	envelope_to   text[] NOT NULL,
	header_from   text,
	subject       text,
	body          text,
	raw           bytea NOT NULL,
	raw_size      integer GENERATED ALWAYS AS (octet_length(raw)) STORED,
	status        text NOT NULL DEFAULT 'received'
		      CHECK (status IN ('received', 'queued', 'held', 'ignored', 'failed')),
	error         text,
	rule_trace    jsonb,
	delivery_id   bigint REFERENCES deliveries,
	CONSTRAINT mails_queued_has_delivery CHECK (status NOT IN ('queued', 'held') OR delivery_id IS NOT NULL),
	CONSTRAINT mails_failed_has_error CHECK (status <> 'failed' OR error IS NOT NULL)
);
COMMENT ON TABLE mails IS
	'Every mail the bridge accepted (安心ほっとメール alerts), raw bytes kept for audit, with its decoded text and the delivery it became.';
COMMENT ON COLUMN mails.via IS 'lmtp = hotline-lmtpd; milter = copied by hotline-milter; imap = fetched by hotline-imapd.';
COMMENT ON COLUMN mails.source_ref IS 'Where it came from, for tracing: the Postfix queue id, or mailbox/UIDVALIDITY/UID for IMAP.';
COMMENT ON COLUMN mails.dedupe_key IS '"mid:" || Message-ID, or "sha256:" || hex SHA-256 of the raw mail when it has none. Unique: a mail already accepted is acknowledged and not queued again.';
COMMENT ON COLUMN mails.message_id IS 'Message-ID header without angle brackets; NULL when missing.';
COMMENT ON COLUMN mails.envelope_from IS 'SMTP MAIL FROM (empty string for the null sender <>).';
COMMENT ON COLUMN mails.envelope_to IS 'SMTP RCPT TO addresses this copy was accepted for.';
COMMENT ON COLUMN mails.subject IS 'Decoded subject (RFC 2047), normalised.';
COMMENT ON COLUMN mails.body IS 'Decoded body text (from text/plain, or HTML converted), normalised; before rules.';
COMMENT ON COLUMN mails.raw IS 'The mail exactly as received (headers and body), for audit and re-decoding.';
COMMENT ON COLUMN mails.raw_size IS 'Size of raw in bytes (generated), so lists need not read raw.';
COMMENT ON COLUMN mails.status IS 'received = stored, not processed; queued = became a delivery; held = became a held delivery; ignored = sender not allowed or not an alert; failed = could not be decoded (see error).';
COMMENT ON COLUMN mails.rule_trace IS 'Which rules matched and what they did (JSON), for the admin''s mail log.';
COMMENT ON COLUMN mails.delivery_id IS 'The delivery this mail became.';
CREATE INDEX mails_received_idx ON mails (received_at);
CREATE INDEX mails_delivery_idx ON mails (delivery_id);

-- Mail rules ------------------------------------------------------------------

CREATE TABLE mail_rules (
	id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	kind            text NOT NULL
			CHECK (kind IN ('strip', 'append', 'keyword', 'sender_allow', 'fallback')),
	position        integer NOT NULL,
	enabled         boolean NOT NULL DEFAULT true,
	name            text NOT NULL DEFAULT '' CHECK (length(name) <= 200),
	part            text CHECK (part IN ('subject', 'body')),
	pattern         text CHECK (length(pattern) BETWEEN 1 AND 4096),
	text            text CHECK (length(text) <= 5000),
	placement       text CHECK (placement IN ('head', 'tail')),
	target_item_id  bigint REFERENCES segment_items ON DELETE RESTRICT,
	fallback_action text CHECK (fallback_action IN ('everyone', 'segment', 'hold')),
	fallback_target jsonb CHECK (jsonb_typeof(fallback_target) = 'object'),
	created_at      timestamptz NOT NULL DEFAULT now(),
	updated_at      timestamptz NOT NULL DEFAULT now(),
	updated_by      bigint REFERENCES staff,
	-- Rules run in one order: ties would make it ambiguous.  Deferrable so
	-- that staff can swap two rules in one transaction.
	CONSTRAINT mail_rules_position_uniq UNIQUE (position) DEFERRABLE INITIALLY DEFERRED,
	-- Target of mail_rule_values' check that a value belongs to the rule's item.
	UNIQUE (id, target_item_id),
	CONSTRAINT mail_rules_strip_fields CHECK (kind <> 'strip' OR (part IS NOT NULL AND pattern IS NOT NULL)),
	CONSTRAINT mail_rules_append_fields CHECK (kind <> 'append'
		OR (part IS NOT NULL AND text IS NOT NULL AND placement IS NOT NULL)),
	CONSTRAINT mail_rules_keyword_fields CHECK (kind <> 'keyword'
		OR (part IS NOT NULL AND pattern IS NOT NULL AND target_item_id IS NOT NULL)),
	CONSTRAINT mail_rules_sender_fields CHECK (kind <> 'sender_allow' OR pattern IS NOT NULL),
	CONSTRAINT mail_rules_fallback_fields CHECK (kind <> 'fallback'
		OR (fallback_action IS NOT NULL
		    AND (fallback_action <> 'segment' OR fallback_target IS NOT NULL))),
	CONSTRAINT mail_rules_fallback_only CHECK (kind = 'fallback'
		OR (fallback_action IS NULL AND fallback_target IS NULL))
);
COMMENT ON TABLE mail_rules IS
	'Staff-edited rules the mail bridge applies in position order: strip text, append text, map keywords to segment values, allow senders, and what to do when no keyword matched.';
COMMENT ON COLUMN mail_rules.kind IS 'strip = remove what pattern matches; append = add text at head/tail; keyword = a pattern with a capture whose text maps to segment values (mail_rule_values); sender_allow = envelope senders accepted (if any such rule is enabled, others are ignored); fallback = when no keyword rule matched.';
COMMENT ON COLUMN mail_rules.position IS 'Order of application (ascending); unique.';
COMMENT ON COLUMN mail_rules.part IS 'Which part of the decoded mail the rule looks at or appends to.';
COMMENT ON COLUMN mail_rules.pattern IS 'PCRE2 pattern (UTF mode), checked by the application on save. For keyword rules the first capture group is the keyword; for sender_allow it matches the envelope sender.';
COMMENT ON COLUMN mail_rules.text IS 'Text to add (append rules).';
COMMENT ON COLUMN mail_rules.placement IS 'head or tail of the part (append rules).';
COMMENT ON COLUMN mail_rules.target_item_id IS 'Segment item (region, category...) a keyword rule''s captures map into.';
COMMENT ON COLUMN mail_rules.fallback_action IS 'everyone = send to all; segment = send to fallback_target; hold = hold for staff approval.';
COMMENT ON COLUMN mail_rules.fallback_target IS 'Target filter used by fallback_action = segment (same format as deliveries.target).';
-- At most one fallback is in force.
CREATE UNIQUE INDEX mail_rules_one_fallback ON mail_rules ((true)) WHERE kind = 'fallback' AND enabled;
CREATE TRIGGER mail_rules_updated_at BEFORE UPDATE ON mail_rules
	FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE mail_rule_values (
	id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	rule_id  bigint NOT NULL,
	item_id  bigint NOT NULL,
	keyword  text NOT NULL CHECK (length(keyword) BETWEEN 1 AND 200),
	value_id bigint,
	everyone boolean NOT NULL DEFAULT false,
	-- The value must belong to the rule's item; changing a rule's item
	-- cascades here and then fails while values of the old item remain.
	FOREIGN KEY (rule_id, item_id) REFERENCES mail_rules (id, target_item_id)
		ON UPDATE CASCADE ON DELETE CASCADE,
	-- RESTRICT: deleting a segment value a rule maps to would make that
	-- keyword silently stop targeting; staff must change the rule first.
	FOREIGN KEY (item_id, value_id) REFERENCES segment_values (item_id, id) ON DELETE RESTRICT,
	CONSTRAINT mail_rule_values_one_meaning CHECK ((value_id IS NULL) = everyone),
	UNIQUE NULLS NOT DISTINCT (rule_id, keyword, value_id)
);
COMMENT ON TABLE mail_rule_values IS
	'Value table of keyword rules: a captured keyword (e.g. 倉渕, 防犯) maps to one or more segment values of the rule''s item, or to everyone (e.g. 全域).';
COMMENT ON COLUMN mail_rule_values.item_id IS 'The rule''s target item (repeated so that constraints can check the value belongs to it).';
COMMENT ON COLUMN mail_rule_values.keyword IS 'Captured text to match, after the application trims and normalises it (NFKC).';
COMMENT ON COLUMN mail_rule_values.everyone IS 'The keyword means the whole city: the delivery goes to everyone.';
CREATE INDEX mail_rule_values_value_idx ON mail_rule_values (value_id);

-- IMAP fetch state --------------------------------------------------------------

CREATE TABLE imap_state (
	account     text NOT NULL CHECK (length(account) BETWEEN 1 AND 300),
	mailbox     text NOT NULL CHECK (length(mailbox) BETWEEN 1 AND 300),
	uidvalidity bigint NOT NULL CHECK (uidvalidity BETWEEN 1 AND 4294967295),
	last_uid    bigint NOT NULL DEFAULT 0 CHECK (last_uid BETWEEN 0 AND 4294967295),
	updated_at  timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (account, mailbox)
);
COMMENT ON TABLE imap_state IS
	'Where hotline-imapd is in each mailbox, updated in the same transaction as the mail it took, so a restart neither loses nor repeats a mail.';
COMMENT ON COLUMN imap_state.account IS 'The IMAP account as configured (user@host).';
COMMENT ON COLUMN imap_state.uidvalidity IS 'UIDVALIDITY of the mailbox (RFC 3501): when it changes, UIDs restart and the fetcher falls back to Message-ID de-duplication.';
COMMENT ON COLUMN imap_state.last_uid IS 'Highest UID taken; the next fetch asks for last_uid+1:*.';
CREATE TRIGGER imap_state_updated_at BEFORE UPDATE ON imap_state
	FOR EACH ROW EXECUTE FUNCTION set_updated_at();
