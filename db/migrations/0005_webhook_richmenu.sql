-- 0005_webhook_richmenu — LINE webhook events, residents' conversation
-- state and uploads, and the tabbed rich menus (normal and disaster sets).

CREATE TABLE webhook_events (
	id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	webhook_event_id text NOT NULL UNIQUE CHECK (length(webhook_event_id) BETWEEN 1 AND 64),
	type             text NOT NULL CHECK (type ~ '^[a-zA-Z]{1,40}$'),
	line_user_id     text,
	event_time       timestamptz,
	is_redelivery    boolean NOT NULL DEFAULT false,
	body             jsonb NOT NULL CHECK (jsonb_typeof(body) = 'object'),
	received_at      timestamptz NOT NULL DEFAULT now(),
	status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed')),
	attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
	next_attempt_at  timestamptz NOT NULL DEFAULT now(),
	processed_at     timestamptz,
	error            text,
	CONSTRAINT webhook_events_done_has_time CHECK (status = 'pending' OR processed_at IS NOT NULL)
);
COMMENT ON TABLE webhook_events IS
	'LINE webhook events, stored before the webhook answers 200 and processed afterwards, so a crash after the answer loses nothing. webhookEventId is unique: redeliveries are dropped.';
COMMENT ON COLUMN webhook_events.webhook_event_id IS 'LINE''s webhookEventId (a ULID), the de-duplication key for redeliveries.';
COMMENT ON COLUMN webhook_events.type IS 'Event type: follow, unfollow, message, postback, ...';
COMMENT ON COLUMN webhook_events.line_user_id IS 'source.userId when the source is a user (for per-resident ordering); NULL otherwise.';
COMMENT ON COLUMN webhook_events.event_time IS 'The event''s timestamp field (when it happened at LINE).';
COMMENT ON COLUMN webhook_events.is_redelivery IS 'deliveryContext.isRedelivery of the first copy stored.';
COMMENT ON COLUMN webhook_events.body IS 'The event object as received (one element of the request''s events array); contains personal data, purge with the retention job.';
COMMENT ON COLUMN webhook_events.status IS 'pending = to process; done = processed; failed = gave up after attempts (see error).';
COMMENT ON COLUMN webhook_events.attempts IS 'Processing attempts so far.';
COMMENT ON COLUMN webhook_events.next_attempt_at IS 'Not before this time (retry back-off).';
-- Work queue: WHERE status = 'pending' AND next_attempt_at <= now()
--   ORDER BY next_attempt_at FOR UPDATE SKIP LOCKED
CREATE INDEX webhook_events_pending_idx ON webhook_events (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_events_received_idx ON webhook_events (received_at);
CREATE INDEX webhook_events_user_idx ON webhook_events (line_user_id, id) WHERE line_user_id IS NOT NULL;

CREATE TABLE resident_flows (
	resident_id bigint PRIMARY KEY REFERENCES residents ON DELETE CASCADE,
	flow        text NOT NULL CHECK (flow IN ('reservation', 'chatbot', 'evacuation')),
	state       jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(state) = 'object'),
	updated_at  timestamptz NOT NULL DEFAULT now(),
	expires_at  timestamptz NOT NULL
);
COMMENT ON TABLE resident_flows IS
	'A resident''s conversation in progress in the chat (a reservation being made, a scenario being walked), one at a time; dropped when it expires.';
COMMENT ON COLUMN resident_flows.flow IS 'Which conversation: reservation, chatbot (scenario), evacuation (guidance).';
COMMENT ON COLUMN resident_flows.state IS 'Where the resident is in it (step, answers so far), as the handler defines.';
CREATE INDEX resident_flows_expires_idx ON resident_flows (expires_at);
CREATE TRIGGER resident_flows_updated_at BEFORE UPDATE ON resident_flows
	FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE resident_uploads (
	id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	resident_id     bigint NOT NULL REFERENCES residents ON DELETE CASCADE,
	kind            text NOT NULL CHECK (kind IN ('image', 'location')),
	line_message_id text,
	content_type    text CHECK (content_type IN ('image/jpeg', 'image/png')),
	content         bytea CHECK (octet_length(content) <= 10485760),
	latitude        double precision CHECK (latitude BETWEEN -90 AND 90),
	longitude       double precision CHECK (longitude BETWEEN -180 AND 180),
	address         text,
	created_at      timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT resident_uploads_image CHECK (kind <> 'image' OR (content IS NOT NULL AND content_type IS NOT NULL)),
	CONSTRAINT resident_uploads_location CHECK (kind <> 'location' OR (latitude IS NOT NULL AND longitude IS NOT NULL))
);
COMMENT ON TABLE resident_uploads IS
	'Photos and locations residents sent in the chat for a reservation form (spec 4(2) 12). Fetched from LINE and kept only here (spec 4(2) 6).';
COMMENT ON COLUMN resident_uploads.line_message_id IS 'id of the LINE message that carried it (the content is fetched once, by this id).';
COMMENT ON COLUMN resident_uploads.content IS 'The image bytes (images only; LINE''s limit is 10 MB).';
CREATE INDEX resident_uploads_resident_idx ON resident_uploads (resident_id);

-- Rich menus ---------------------------------------------------------------------
--
-- A set (normal or disaster) is up to 3 tabbed menus; each tab's menu is a
-- LINE rich menu reached through a rich menu alias.  Publishing uploads the
-- drafts first and only then switches them live, so the previous set stays
-- live if publishing fails half-way.

CREATE TABLE richmenus (
	id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	set_name         text NOT NULL CHECK (set_name IN ('normal', 'disaster')),
	tab_no           smallint NOT NULL CHECK (tab_no BETWEEN 1 AND 3),
	status           text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'live', 'retired')),
	title            text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
	chat_bar_text    text NOT NULL CHECK (length(chat_bar_text) BETWEEN 1 AND 14),
	layout           jsonb NOT NULL CHECK (jsonb_typeof(layout) = 'object'),
	image            bytea CHECK (octet_length(image) <= 1048576),
	image_type       text CHECK (image_type IN ('image/png', 'image/jpeg')),
	line_richmenu_id text UNIQUE,
	alias            text NOT NULL CHECK (alias ~ '^[A-Za-z0-9_-]{1,32}$'),
	published_at     timestamptz,
	created_at       timestamptz NOT NULL DEFAULT now(),
	updated_at       timestamptz NOT NULL DEFAULT now(),
	updated_by       bigint REFERENCES staff,
	CONSTRAINT richmenus_image_typed CHECK ((image IS NULL) = (image_type IS NULL)),
	CONSTRAINT richmenus_live_published CHECK (status <> 'live'
		OR (line_richmenu_id IS NOT NULL AND image IS NOT NULL AND published_at IS NOT NULL))
);
COMMENT ON TABLE richmenus IS
	'Tabbed rich menus (spec 4(1)): per set (normal, disaster) up to 3 tabs, each with a draft being edited and the live version at LINE; old versions retired.';
COMMENT ON COLUMN richmenus.set_name IS 'normal, or disaster (prepared in advance, switched for everyone at once; settings richmenu.active_set says which is shown).';
COMMENT ON COLUMN richmenus.tab_no IS 'Tab position 1-3 (メインメニュー / 防災 / おすすめ情報 in the normal set).';
COMMENT ON COLUMN richmenus.status IS 'draft = being edited; live = the published version at LINE; retired = replaced (deleted at LINE).';
COMMENT ON COLUMN richmenus.title IS 'Tab label shown to staff and on the tab bar, and the rich menu''s name at LINE.';
COMMENT ON COLUMN richmenus.chat_bar_text IS 'Text of the chat bar that opens the menu (LINE: at most 14 characters).';
COMMENT ON COLUMN richmenus.layout IS 'Grid, areas (up to 12) with label, icon, colours and action (uri, message, postback, richmenuswitch): the source the image and LINE''s rich menu object are rendered from.';
COMMENT ON COLUMN richmenus.image IS 'Rendered image uploaded to LINE (PNG or JPEG, at most 1 MB).';
COMMENT ON COLUMN richmenus.line_richmenu_id IS 'richMenuId LINE assigned on creation; NULL before upload.';
COMMENT ON COLUMN richmenus.alias IS 'Rich menu alias id that richmenuswitch actions name (e.g. tab2). Not unique: the normal and disaster tabs may share an alias that switching sets re-points at LINE.';
CREATE UNIQUE INDEX richmenus_one_live ON richmenus (set_name, tab_no) WHERE status = 'live';
CREATE UNIQUE INDEX richmenus_one_draft ON richmenus (set_name, tab_no) WHERE status = 'draft';
CREATE TRIGGER richmenus_updated_at BEFORE UPDATE ON richmenus
	FOR EACH ROW EXECUTE FUNCTION set_updated_at();
