-- 0008_grants — who may do what, all in one place so it can be audited.
--
-- Four LOGIN roles (created in 0001), one per daemon, each with only what
-- its daemon needs; nothing for PUBLIC.  Every surrogate key is an identity
-- column, whose sequence needs no USAGE grant for INSERT, so no sequence
-- privileges are granted at all.  Later migrations that add tables grant
-- on them in the same file.
--
--   hotline_ingest   mail bridge: stores mail and the delivery it becomes;
--                    reads rules and segment definitions; IMAP state.
--   hotline_pusher   fan-out: reads deliveries and targeting data; writes
--                    delivery state, batches and recipient snapshots.
--   hotline_webhook  internet-facing: webhook events, residents and their
--                    settings, resident-side reservations/chatbot/maps.
--   hotline_admin    staff UI: broad, but the audit log is INSERT+SELECT.

-- Nothing for PUBLIC --------------------------------------------------------------

DO $$
BEGIN
	EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database());
	EXECUTE format('GRANT CONNECT ON DATABASE %I TO hotline_ingest, hotline_pusher,'
		       ' hotline_webhook, hotline_admin', current_database());
END
$$;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO hotline_ingest, hotline_pusher, hotline_webhook, hotline_admin;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA public FROM PUBLIC;

-- Everyone reads runtime settings and segment definitions ----------------------

GRANT SELECT ON settings, segment_items, segment_values
	TO hotline_ingest, hotline_pusher, hotline_webhook, hotline_admin;

-- hotline_ingest ------------------------------------------------------------------
-- One transaction: INSERT mail ... ON CONFLICT (dedupe_key) DO NOTHING
-- RETURNING id; INSERT delivery RETURNING id; UPDATE mail SET status,
-- delivery_id.  No residents, no staff, no sessions, no audit log.

GRANT SELECT ON mail_rules, mail_rule_values TO hotline_ingest;
GRANT INSERT ON mails TO hotline_ingest;
GRANT SELECT (id, dedupe_key, message_id, received_at, status, delivery_id) ON mails TO hotline_ingest;
GRANT UPDATE (status, error, rule_trace, delivery_id) ON mails TO hotline_ingest;
GRANT INSERT ON deliveries TO hotline_ingest;
GRANT SELECT (id, source, status, created_at) ON deliveries TO hotline_ingest;
GRANT SELECT, INSERT, UPDATE ON imap_state TO hotline_ingest;

-- hotline_pusher ------------------------------------------------------------------
-- Targeting data (residents, choices, dates), deliveries and their batches.
-- No mail, no staff.  It updates only a delivery's progress columns, never
-- its messages or audience.

GRANT SELECT ON residents, resident_choices, resident_dates TO hotline_pusher;
GRANT SELECT ON deliveries TO hotline_pusher;
GRANT UPDATE (status, hold_reason, send_method, targeted, accepted, failed, error,
	      started_at, finished_at) ON deliveries TO hotline_pusher;
GRANT SELECT, INSERT, UPDATE ON delivery_batches TO hotline_pusher;
GRANT SELECT, INSERT ON delivery_recipients TO hotline_pusher;

-- hotline_webhook -----------------------------------------------------------------
-- Faces the internet, so the narrowest of all: it cannot make anyone a test
-- receiver, cannot read staff or mail, and can only create and cancel
-- reminder deliveries (row-level security below).

GRANT SELECT, INSERT ON webhook_events TO hotline_webhook;
GRANT UPDATE (status, attempts, next_attempt_at, processed_at, error) ON webhook_events TO hotline_webhook;
GRANT SELECT, INSERT ON residents TO hotline_webhook;
GRANT UPDATE (status, followed_at, blocked_at, settings_saved_at) ON residents TO hotline_webhook;
GRANT SELECT, INSERT, DELETE ON resident_choices TO hotline_webhook;
GRANT SELECT, INSERT, UPDATE, DELETE ON resident_dates, resident_flows TO hotline_webhook;
GRANT SELECT, INSERT, DELETE ON resident_uploads TO hotline_webhook;
GRANT SELECT (id, name) ON departments TO hotline_webhook;
GRANT SELECT ON holidays, reservation_services, reservation_slots, reservation_fields
	TO hotline_webhook;
GRANT SELECT, INSERT ON reservations, reservation_answers TO hotline_webhook;
GRANT UPDATE (status, cancelled_at, cancel_reason, reminder_delivery_id) ON reservations TO hotline_webhook;
GRANT INSERT ON deliveries TO hotline_webhook;
GRANT SELECT (id, source, status, send_at, created_at) ON deliveries TO hotline_webhook;
GRANT UPDATE (status, cancelled_at) ON deliveries TO hotline_webhook;
GRANT SELECT ON chatbot_faqs, chatbot_nodes, garbage_categories, garbage_items, garbage_areas,
	garbage_collection_days, facility_categories, facilities, disaster_types, shelters,
	shelter_hazards, evacuation_steps
	TO hotline_webhook;
GRANT INSERT ON chatbot_queries TO hotline_webhook;

-- hotline_admin -------------------------------------------------------------------
-- Broad, as staff manage everything; but the audit log is append-only,
-- inbound mail and webhook events are evidence (read-only), delivery
-- progress belongs to the pusher (read-only), and slot seat counts belong
-- to the reservations trigger.

GRANT INSERT, UPDATE ON settings TO hotline_admin;
GRANT SELECT, INSERT, UPDATE, DELETE ON departments TO hotline_admin;
GRANT SELECT, INSERT, UPDATE ON staff TO hotline_admin;
GRANT SELECT, INSERT, UPDATE, DELETE ON staff_recovery_codes, staff_sessions, staff_segment_scope
	TO hotline_admin;
GRANT SELECT, INSERT ON audit_log TO hotline_admin;
GRANT SELECT ON audit_chain_head TO hotline_admin;
GRANT EXECUTE ON FUNCTION audit_verify(), audit_canonical(audit_log) TO hotline_admin;
GRANT SELECT, DELETE ON residents TO hotline_admin;
GRANT UPDATE (is_tester) ON residents TO hotline_admin;
GRANT INSERT, UPDATE, DELETE ON segment_items, segment_values TO hotline_admin;
GRANT SELECT ON resident_choices, resident_dates, resident_uploads TO hotline_admin;
GRANT SELECT, INSERT, UPDATE, DELETE ON deliveries TO hotline_admin;
GRANT SELECT ON delivery_batches, delivery_recipients TO hotline_admin;
GRANT SELECT ON mails, imap_state, webhook_events TO hotline_admin;
GRANT SELECT, INSERT, UPDATE, DELETE ON mail_rules, mail_rule_values, richmenus TO hotline_admin;
GRANT SELECT, INSERT, UPDATE, DELETE ON holidays, reservation_services, reservation_slot_rules,
	reservation_fields, reservations, reservation_answers
	TO hotline_admin;
GRANT SELECT, INSERT, DELETE ON reservation_slots TO hotline_admin;
GRANT UPDATE (starts_at, ends_at, capacity, closed) ON reservation_slots TO hotline_admin;
GRANT SELECT, INSERT, UPDATE, DELETE ON chatbot_faqs, chatbot_nodes, garbage_categories,
	garbage_items, garbage_areas, garbage_collection_days, facility_categories, facilities,
	disaster_types, shelters, shelter_hazards, evacuation_steps
	TO hotline_admin;
GRANT SELECT ON chatbot_queries TO hotline_admin;
GRANT UPDATE (review_status, review_faq_id, reviewed_by, reviewed_at) ON chatbot_queries TO hotline_admin;

-- Row-level security on deliveries ---------------------------------------------------
-- Table grants say which statements a role may run; these policies say on
-- which deliveries.  The point is the internet-facing webhook: even if it
-- were taken over, it could only schedule (or cancel) reminders to
-- particular residents, never a message to everyone, a test or a staff
-- delivery.  The owner (migrations, hotlinectl) is not subject to them.

ALTER TABLE deliveries ENABLE ROW LEVEL SECURITY;

CREATE POLICY deliveries_admin ON deliveries TO hotline_admin
	USING (true) WITH CHECK (true);
CREATE POLICY deliveries_pusher ON deliveries TO hotline_pusher
	USING (true) WITH CHECK (true);
CREATE POLICY deliveries_ingest_read ON deliveries FOR SELECT TO hotline_ingest
	USING (source = 'mail');
CREATE POLICY deliveries_ingest_insert ON deliveries FOR INSERT TO hotline_ingest
	WITH CHECK (source = 'mail' AND status IN ('queued', 'held') AND NOT is_test
		    AND created_by IS NULL AND approved_by IS NULL);
CREATE POLICY deliveries_webhook_read ON deliveries FOR SELECT TO hotline_webhook
	USING (source = 'reminder');
CREATE POLICY deliveries_webhook_insert ON deliveries FOR INSERT TO hotline_webhook
	WITH CHECK (source = 'reminder' AND status = 'scheduled' AND NOT everyone AND NOT is_test
		    AND created_by IS NULL AND approved_by IS NULL);
CREATE POLICY deliveries_webhook_cancel ON deliveries FOR UPDATE TO hotline_webhook
	USING (source = 'reminder' AND status = 'scheduled')
	WITH CHECK (source = 'reminder' AND status IN ('scheduled', 'cancelled'));
