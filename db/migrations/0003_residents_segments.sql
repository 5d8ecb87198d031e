-- 0003_residents_segments — residents (LINE friends), segment items and
-- values, residents' choices, and which values each staff account may target.
--
-- Personal data minimisation: a resident is a LINE user id and the choices
-- they made on the 受信設定 page; no name, no display name, no picture.

CREATE TABLE residents (
	id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	line_user_id      text NOT NULL UNIQUE CHECK (line_user_id ~ '^U[0-9a-f]{32}$'),
	status            text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'blocked')),
	followed_at       timestamptz NOT NULL DEFAULT now(),
	blocked_at        timestamptz,
	is_tester         boolean NOT NULL DEFAULT false,
	settings_saved_at timestamptz,
	created_at        timestamptz NOT NULL DEFAULT now(),
	updated_at        timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT residents_blocked_has_time CHECK (status <> 'blocked' OR blocked_at IS NOT NULL)
);
COMMENT ON TABLE residents IS
	'Residents who added the official account as a friend. Only the LINE user id and their own settings: no name or profile (data minimisation). A block keeps the row and its settings, so a new follow restores them.';
COMMENT ON COLUMN residents.line_user_id IS 'LINE user id of the resident for this channel (U + 32 hex digits). Never logged in clear.';
COMMENT ON COLUMN residents.status IS 'active = a friend; blocked = unfollowed/blocked the account, never targeted.';
COMMENT ON COLUMN residents.followed_at IS 'Latest follow event.';
COMMENT ON COLUMN residents.blocked_at IS 'Latest unfollow event; kept after a new follow.';
COMMENT ON COLUMN residents.is_tester IS 'Staff''s own LINE account registered as a test receiver: test deliveries go only to these (spec 4(3) 7).';
COMMENT ON COLUMN residents.settings_saved_at IS 'Last time the resident saved the 受信設定 page; NULL = never set anything (receives every category in every region).';
-- Fan-out scans active residents in id order (keyset pagination), and
-- test deliveries scan the few testers.
CREATE INDEX residents_active_idx ON residents (id) WHERE status = 'active';
CREATE INDEX residents_testers_idx ON residents (id) WHERE status = 'active' AND is_tester;
CREATE TRIGGER residents_updated_at BEFORE UPDATE ON residents
	FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Segment items and values ----------------------------------------------------

CREATE TABLE segment_items (
	id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	key              text NOT NULL UNIQUE CHECK (key ~ '^[a-z][a-z0-9_]{0,62}$'),
	label            text NOT NULL CHECK (length(label) BETWEEN 1 AND 100),
	description      text NOT NULL DEFAULT '',
	kind             text NOT NULL CHECK (kind IN ('single', 'multi', 'date')),
	match_when_unset boolean NOT NULL,
	position         integer NOT NULL DEFAULT 0,
	retired_at       timestamptz,
	created_at       timestamptz NOT NULL DEFAULT now(),
	updated_at       timestamptz NOT NULL DEFAULT now(),
	-- Target of the composite foreign keys that pin a choice to its item's kind.
	UNIQUE (id, kind)
);
COMMENT ON TABLE segment_items IS
	'Segment items residents answer on the 受信設定 page (region, age band, gender, categories, children''s birthdates, and any item staff add: no upper bound). Retired, not deleted, once used.';
COMMENT ON COLUMN segment_items.key IS 'Stable ASCII key used by delivery targets and mail rules; permanent (trigger), unlike label.';
COMMENT ON COLUMN segment_items.label IS 'Japanese name shown to residents and staff; may be renamed.';
COMMENT ON COLUMN segment_items.kind IS 'single = one value (resident_choices, at most one per item); multi = any number of values (resident_choices); date = any number of dates (resident_dates), e.g. children''s birthdates.';
COMMENT ON COLUMN segment_items.match_when_unset IS 'When true, a resident who chose nothing for this item matches every value of it (region, categories: nobody misses an alert before choosing). When false, such a resident matches no filter on this item.';
COMMENT ON COLUMN segment_items.position IS 'Display order on the 受信設定 page and in the composer (ascending, then id).';
COMMENT ON COLUMN segment_items.retired_at IS 'Hidden from residents and the composer from this time; existing choices are kept so that un-retiring restores them.';
CREATE TRIGGER segment_items_updated_at BEFORE UPDATE ON segment_items
	FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER segment_items_key_permanent BEFORE UPDATE OF key ON segment_items
	FOR EACH ROW EXECUTE FUNCTION refuse_key_change();

CREATE TABLE segment_values (
	id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	item_id    bigint NOT NULL REFERENCES segment_items ON DELETE CASCADE,
	key        text NOT NULL CHECK (key ~ '^[a-z][a-z0-9_]{0,62}$'),
	label      text NOT NULL CHECK (length(label) BETWEEN 1 AND 100),
	position   integer NOT NULL DEFAULT 0,
	retired_at timestamptz,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	UNIQUE (item_id, key),
	-- Target of composite foreign keys that check a value belongs to an item.
	UNIQUE (item_id, id)
);
COMMENT ON TABLE segment_values IS
	'The values of a single/multi segment item (旧高崎, 倉渕... / 防犯, 防災...). Deleting an item deletes its values; retire them instead once used.';
COMMENT ON COLUMN segment_values.key IS 'Stable ASCII key, unique within the item; permanent (trigger).';
COMMENT ON COLUMN segment_values.label IS 'Japanese label; may be renamed. Unique among the item''s current values.';
COMMENT ON COLUMN segment_values.retired_at IS 'Hidden from residents and the composer; cannot be newly chosen; existing choices are kept.';
-- Two current values with one label would be indistinguishable on the page.
CREATE UNIQUE INDEX segment_values_label_uniq ON segment_values (item_id, label) WHERE retired_at IS NULL;
CREATE TRIGGER segment_values_updated_at BEFORE UPDATE ON segment_values
	FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER segment_values_key_permanent BEFORE UPDATE OF key ON segment_values
	FOR EACH ROW EXECUTE FUNCTION refuse_key_change();

-- Residents' choices ------------------------------------------------------------
--
-- item_id and item_kind are copied from the value by a trigger, so the
-- application inserts just (resident_id, value_id).  They exist so that
-- plain constraints can enforce "at most one value for a single item"
-- without a race: a partial unique index on (resident_id, item_id).

CREATE TABLE resident_choices (
	resident_id bigint NOT NULL REFERENCES residents ON DELETE CASCADE,
	value_id    bigint NOT NULL,
	item_id     bigint NOT NULL,
	item_kind   text NOT NULL CHECK (item_kind IN ('single', 'multi')),
	chosen_at   timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (resident_id, value_id),
	FOREIGN KEY (item_id, value_id) REFERENCES segment_values (item_id, id) ON DELETE CASCADE,
	-- ON UPDATE CASCADE: changing an item's kind re-checks its choices
	-- (multi -> single fails while a resident holds two values).
	FOREIGN KEY (item_id, item_kind) REFERENCES segment_items (id, kind)
		ON UPDATE CASCADE ON DELETE CASCADE
);
COMMENT ON TABLE resident_choices IS
	'Values a resident chose on the 受信設定 page. No row for an item = nothing chosen (see segment_items.match_when_unset).';
COMMENT ON COLUMN resident_choices.item_id IS 'Copied from the value by trigger; lets constraints and the pusher work per item.';
COMMENT ON COLUMN resident_choices.item_kind IS 'Copied from the item by trigger; enforces at most one choice for single items.';
CREATE UNIQUE INDEX resident_choices_single_uniq ON resident_choices (resident_id, item_id)
	WHERE item_kind = 'single';
-- Per-value counts for staff (spec 4(3) 9) and the pusher's segment joins.
CREATE INDEX resident_choices_value_idx ON resident_choices (value_id, resident_id);

CREATE FUNCTION resident_choices_fill() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	v_retired timestamptz;
	i_retired timestamptz;
BEGIN
	SELECT v.item_id, i.kind, v.retired_at, i.retired_at
	  INTO NEW.item_id, NEW.item_kind, v_retired, i_retired
	  FROM segment_values v JOIN segment_items i ON i.id = v.item_id
	 WHERE v.id = NEW.value_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'segment value % does not exist', NEW.value_id
			USING ERRCODE = 'foreign_key_violation';
	END IF;
	IF v_retired IS NOT NULL OR i_retired IS NOT NULL THEN
		RAISE EXCEPTION 'segment value % is retired and cannot be chosen', NEW.value_id
			USING ERRCODE = 'check_violation';
	END IF;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION resident_choices_fill() IS
	'BEFORE INSERT trigger: copies item_id/item_kind from the chosen value and refuses retired values.';
CREATE TRIGGER resident_choices_fill BEFORE INSERT OR UPDATE OF value_id ON resident_choices
	FOR EACH ROW EXECUTE FUNCTION resident_choices_fill();

CREATE TABLE resident_dates (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	resident_id bigint NOT NULL REFERENCES residents ON DELETE CASCADE,
	item_id     bigint NOT NULL,
	item_kind   text NOT NULL DEFAULT 'date' CHECK (item_kind = 'date'),
	value       date NOT NULL CHECK (value >= DATE '1900-01-01'),
	created_at  timestamptz NOT NULL DEFAULT now(),
	FOREIGN KEY (item_id, item_kind) REFERENCES segment_items (id, kind)
		ON UPDATE CASCADE ON DELETE CASCADE
);
COMMENT ON TABLE resident_dates IS
	'Dates a resident entered for a date item, several per resident: children''s birthdates (item child_birthdate). The pusher turns them into ages on the send date.';
COMMENT ON COLUMN resident_dates.item_kind IS 'Always ''date''; with the composite foreign key it guarantees the item is a date item.';
CREATE INDEX resident_dates_resident_idx ON resident_dates (resident_id);
CREATE INDEX resident_dates_item_idx ON resident_dates (item_id, value);

-- Staff scope --------------------------------------------------------------------

CREATE TABLE staff_segment_scope (
	staff_id bigint NOT NULL REFERENCES staff ON DELETE CASCADE,
	value_id bigint NOT NULL REFERENCES segment_values ON DELETE CASCADE,
	granted_at timestamptz NOT NULL DEFAULT now(),
	granted_by bigint REFERENCES staff,
	PRIMARY KEY (staff_id, value_id)
);
COMMENT ON TABLE staff_segment_scope IS
	'Segment values a 一般職員 account may target (spec 4(3) 5). Ignored for 管理者. Deleting a value removes it from every scope, which only narrows what anyone may target.';
CREATE INDEX staff_segment_scope_value_idx ON staff_segment_scope (value_id);

-- The city's default items (spec 4(3) 11) --------------------------------------

INSERT INTO segment_items (key, label, kind, match_when_unset, position, description) VALUES
	('region',          '住んでいる地域',         'multi',  true,  10,
	 '地域別の情報を受け取る地域。未設定なら全地域の情報が届きます。'),
	('age_band',        '年代',                   'single', false, 20, ''),
	('gender',          '性別',                   'single', false, 30, ''),
	('category',        '配信希望のカテゴリー',   'multi',  true,  40,
	 '受け取りたい情報の種類。未設定なら全カテゴリーの情報が届きます。'),
	('child_birthdate', '子どもの生年月日',       'date',   false, 50,
	 '子育て支援の情報を年齢に合わせてお届けするために使います。');

INSERT INTO segment_values (item_id, key, label, position)
SELECT i.id, v.key, v.label, v.position
  FROM (VALUES
	('region', 'kyu_takasaki',        '旧高崎',        10),
	('region', 'kurabuchi',           '倉渕',          20),
	('region', 'haruna',              '榛名',          30),
	('region', 'shinmachi',           '新町',          40),
	('region', 'yoshii',              '吉井',          50),
	('region', 'gunma',               '群馬',          60),
	('region', 'misato',              '箕郷',          70),
	('age_band', 'teens_or_under',    '10代以下',      10),
	('age_band', 'twenties',          '20代',          20),
	('age_band', 'thirties',          '30代',          30),
	('age_band', 'forties',           '40代',          40),
	('age_band', 'fifties',           '50代',          50),
	('age_band', 'sixties',           '60代',          60),
	('age_band', 'seventies_or_over', '70代以上',      70),
	('gender', 'male',                '男性',          10),
	('gender', 'female',              '女性',          20),
	('gender', 'other',               'その他',        30),
	('gender', 'no_answer',           '回答しない',    40),
	('category', 'crime_prevention',  '防犯',          10),
	('category', 'traffic_safety',    '交通安全',      20),
	('category', 'disaster',          '防災',          30),
	('category', 'fire',              '火災',          40),
	('category', 'event',             'イベント',      50),
	('category', 'course',            '講座開催',      60),
	('category', 'childcare',         '子育て支援',    70),
	('category', 'health',            '健康づくり',    80),
	('category', 'koho_takasaki',     '広報高崎',      90),
	('category', 'other',             'その他',       100)
  ) AS v(item_key, key, label, position)
  JOIN segment_items i ON i.key = v.item_key;
