-- 0006_reservations — online reservations (spec 4(2)): services (窓口),
-- weekly slot rules, materialised slots with capacity, custom form fields,
-- hidden forms with access codes, reservations and their answers.
--
-- Personal data (name, phone, answers, photos) is kept in this database
-- only, never sent to LINE (spec 4(2) 6): LINE carries just links and
-- reminders that say when and where.

CREATE TABLE holidays (
	day  date PRIMARY KEY,
	name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
	kind text NOT NULL DEFAULT 'national' CHECK (kind IN ('national', 'closure'))
);
COMMENT ON TABLE holidays IS
	'Days on which "holiday" slot rules apply instead of the weekday''s: national holidays (loaded from the Cabinet Office list) and city closures such as 年末年始.';
COMMENT ON COLUMN holidays.kind IS 'national = 国民の祝日; closure = the city''s own closed day.';

CREATE TABLE reservation_services (
	id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	department_id     bigint NOT NULL REFERENCES departments ON DELETE RESTRICT,
	name              text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
	description       text NOT NULL DEFAULT '',
	location          text NOT NULL DEFAULT '',
	notice            text NOT NULL DEFAULT '',
	book_open_days    integer NOT NULL DEFAULT 30 CHECK (book_open_days BETWEEN 0 AND 366),
	book_close_days   integer NOT NULL DEFAULT 1 CHECK (book_close_days BETWEEN 0 AND 366),
	cancel_close_days integer NOT NULL DEFAULT 1 CHECK (cancel_close_days BETWEEN 0 AND 366),
	max_seats         integer NOT NULL DEFAULT 1 CHECK (max_seats BETWEEN 1 AND 50),
	remind            boolean NOT NULL DEFAULT true,
	remind_time       time NOT NULL DEFAULT '08:00',
	hidden            boolean NOT NULL DEFAULT false,
	access_code_hash  text UNIQUE CHECK (access_code_hash ~ '^[0-9a-f]{64}$'),
	published         boolean NOT NULL DEFAULT false,
	retired_at        timestamptz,
	created_at        timestamptz NOT NULL DEFAULT now(),
	updated_at        timestamptz NOT NULL DEFAULT now(),
	updated_by        bigint REFERENCES staff,
	CONSTRAINT reservation_services_window CHECK (book_close_days <= book_open_days),
	CONSTRAINT reservation_services_hidden_code CHECK (NOT hidden OR access_code_hash IS NOT NULL)
);
COMMENT ON TABLE reservation_services IS
	'What residents can book (a counter, a consultation, a class), owned and maintained by a department (spec 4(2) 5).';
COMMENT ON COLUMN reservation_services.notice IS 'Text shown on the confirmation step before the resident commits (spec 4(2) 7).';
COMMENT ON COLUMN reservation_services.book_open_days IS 'Booking opens at 00:00 (Asia/Tokyo) this many days before the slot''s date (spec 4(2) 3).';
COMMENT ON COLUMN reservation_services.book_close_days IS 'Booking closes at 24:00 of the day this many days before the slot''s date, and never later than the slot''s start (0 = until it starts).';
COMMENT ON COLUMN reservation_services.cancel_close_days IS 'Residents may cancel in LINE until 24:00 of the day this many days before the slot''s date (0 = until it starts); staff always can (spec 4(2) 10).';
COMMENT ON COLUMN reservation_services.max_seats IS 'Most seats one reservation may take.';
COMMENT ON COLUMN reservation_services.remind IS 'Send a LINE reminder on the day of the reservation (spec 4(2) 11).';
COMMENT ON COLUMN reservation_services.remind_time IS 'Time of day (Asia/Tokyo) the reminder is sent, capped at the slot''s start.';
COMMENT ON COLUMN reservation_services.hidden IS 'Not listed: reachable only by entering its access code in the chat (spec 4(2) 13).';
COMMENT ON COLUMN reservation_services.access_code_hash IS 'Hex HMAC-SHA256 of the access code, keyed with a server secret (short numeric codes would be trivial to reverse from a plain hash). Unique so a code finds one form.';
COMMENT ON COLUMN reservation_services.published IS 'Bookable by residents; false while staff prepare it.';
CREATE INDEX reservation_services_department_idx ON reservation_services (department_id);
CREATE TRIGGER reservation_services_updated_at BEFORE UPDATE ON reservation_services
	FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE reservation_slot_rules (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	service_id   bigint NOT NULL REFERENCES reservation_services ON DELETE CASCADE,
	applies_to   text NOT NULL
		     CHECK (applies_to IN ('mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun', 'holiday')),
	start_time   time NOT NULL,
	end_time     time NOT NULL,
	slot_minutes integer NOT NULL CHECK (slot_minutes BETWEEN 5 AND 480),
	capacity     integer NOT NULL CHECK (capacity BETWEEN 1 AND 1000),
	valid_from   date NOT NULL DEFAULT CURRENT_DATE,
	valid_until  date,
	created_at   timestamptz NOT NULL DEFAULT now(),
	updated_at   timestamptz NOT NULL DEFAULT now(),
	CHECK (end_time > start_time),
	CHECK (end_time - start_time >= make_interval(mins => slot_minutes)),
	CHECK (valid_until IS NULL OR valid_until >= valid_from)
);
COMMENT ON TABLE reservation_slot_rules IS
	'Weekly pattern from which slots are generated: per weekday or for holidays, opening hours cut into slots of slot_minutes with capacity seats each (spec 4(2) 8). On a day listed in holidays only "holiday" rules apply.';
COMMENT ON COLUMN reservation_slot_rules.applies_to IS 'mon..sun, or holiday (a day in the holidays table, whatever its weekday).';
COMMENT ON COLUMN reservation_slot_rules.capacity IS 'Seats per generated slot.';
COMMENT ON COLUMN reservation_slot_rules.valid_from IS 'First date the rule generates slots for.';
COMMENT ON COLUMN reservation_slot_rules.valid_until IS 'Last date (inclusive); NULL = open-ended.';
CREATE INDEX reservation_slot_rules_service_idx ON reservation_slot_rules (service_id);
CREATE TRIGGER reservation_slot_rules_updated_at BEFORE UPDATE ON reservation_slot_rules
	FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE reservation_slots (
	id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	service_id bigint NOT NULL REFERENCES reservation_services ON DELETE CASCADE,
	starts_at  timestamptz NOT NULL,
	ends_at    timestamptz NOT NULL,
	capacity   integer NOT NULL CHECK (capacity >= 0),
	booked     integer NOT NULL DEFAULT 0,
	closed     boolean NOT NULL DEFAULT false,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	UNIQUE (service_id, starts_at),
	CHECK (ends_at > starts_at),
	-- Only free seats can be booked (spec 4(2) 2), race-free: the seat
	-- count is kept by a trigger on reservations that updates this row, and
	-- concurrent bookings of one slot queue on its row lock.
	CONSTRAINT reservation_slots_not_overbooked CHECK (booked BETWEEN 0 AND capacity)
);
COMMENT ON TABLE reservation_slots IS
	'Bookable time slots, generated from the rules (and editable one by one). A slot with reservations cannot be deleted.';
COMMENT ON COLUMN reservation_slots.capacity IS 'Seats; cannot be lowered below booked.';
COMMENT ON COLUMN reservation_slots.booked IS 'Seats taken by reservations that are not cancelled; maintained by trigger, never written by the application.';
COMMENT ON COLUMN reservation_slots.closed IS 'Closed to new bookings by staff (existing ones stand).';
CREATE TRIGGER reservation_slots_updated_at BEFORE UPDATE ON reservation_slots
	FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE reservation_fields (
	id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	service_id bigint NOT NULL REFERENCES reservation_services ON DELETE CASCADE,
	position   integer NOT NULL DEFAULT 0,
	label      text NOT NULL CHECK (length(label) BETWEEN 1 AND 200),
	kind       text NOT NULL CHECK (kind IN ('text', 'textarea', 'number', 'select', 'multiselect',
					     'date', 'phone', 'email', 'image', 'location')),
	required   boolean NOT NULL DEFAULT false,
	options    jsonb,
	help       text NOT NULL DEFAULT '',
	retired_at timestamptz,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT reservation_fields_options CHECK (CASE
		WHEN kind IN ('select', 'multiselect')
			THEN jsonb_typeof(options) = 'array' AND jsonb_array_length(options) >= 1
		ELSE options IS NULL END)
);
COMMENT ON TABLE reservation_fields IS
	'Extra questions staff add to a service''s form besides name and date (spec 4(2) 12), including a photo or a location sent in LINE. Retired, not deleted, once answered.';
COMMENT ON COLUMN reservation_fields.kind IS 'Input type; image and location are sent as LINE messages and stored in resident_uploads.';
COMMENT ON COLUMN reservation_fields.options IS 'Choices (JSON array of strings) for select and multiselect; NULL otherwise.';
CREATE INDEX reservation_fields_service_idx ON reservation_fields (service_id, position);
CREATE TRIGGER reservation_fields_updated_at BEFORE UPDATE ON reservation_fields
	FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE reservations (
	id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	ref_code             text NOT NULL UNIQUE
			     DEFAULT upper(substr(md5(gen_random_uuid()::text), 1, 10))
			     CHECK (ref_code ~ '^[A-Z0-9]{6,16}$'),
	slot_id              bigint NOT NULL REFERENCES reservation_slots ON DELETE RESTRICT,
	resident_id          bigint REFERENCES residents ON DELETE SET NULL,
	channel              text NOT NULL CHECK (channel IN ('line', 'staff')),
	status               text NOT NULL DEFAULT 'booked'
			     CHECK (status IN ('booked', 'cancelled', 'attended', 'no_show')),
	seats                integer NOT NULL DEFAULT 1 CHECK (seats BETWEEN 1 AND 50),
	name                 text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
	name_kana            text CHECK (length(name_kana) <= 100),
	phone                text CHECK (phone ~ '^[0-9+() -]{1,20}$'),
	note                 text CHECK (length(note) <= 2000),
	created_by           bigint REFERENCES staff,
	cancelled_at         timestamptz,
	cancelled_by         bigint REFERENCES staff,
	cancel_reason        text,
	reminder_delivery_id bigint REFERENCES deliveries ON DELETE SET NULL,
	created_at           timestamptz NOT NULL DEFAULT now(),
	updated_at           timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT reservations_staff_author CHECK (channel <> 'staff' OR created_by IS NOT NULL),
	CONSTRAINT reservations_cancel_time CHECK ((status = 'cancelled') = (cancelled_at IS NOT NULL))
);
COMMENT ON TABLE reservations IS
	'Bookings: made by residents in LINE, or entered by staff for phone/counter bookings (spec 4(2) 4). Personal data stays in this database.';
COMMENT ON COLUMN reservations.ref_code IS 'Reservation number shown to the resident and quoted on the phone.';
COMMENT ON COLUMN reservations.resident_id IS 'The LINE resident who booked; NULL for staff-entered bookings, or once the resident''s data was deleted (the booking stands).';
COMMENT ON COLUMN reservations.channel IS 'line = by the resident in LINE; staff = entered in the admin UI.';
COMMENT ON COLUMN reservations.status IS 'booked; cancelled (frees the seats); attended or no_show (recorded after the day).';
COMMENT ON COLUMN reservations.seats IS 'Seats taken in the slot.';
COMMENT ON COLUMN reservations.name IS '氏名 (personal data).';
COMMENT ON COLUMN reservations.cancelled_by IS 'Staff who cancelled; NULL when the resident cancelled in LINE.';
COMMENT ON COLUMN reservations.reminder_delivery_id IS 'The scheduled reminder delivery (source reminder); cancelled with the reservation.';
-- One live booking per resident per slot (more seats go in seats).
CREATE UNIQUE INDEX reservations_one_per_slot ON reservations (slot_id, resident_id)
	WHERE status <> 'cancelled' AND resident_id IS NOT NULL;
CREATE INDEX reservations_resident_idx ON reservations (resident_id);
CREATE INDEX reservations_slot_idx ON reservations (slot_id);
CREATE TRIGGER reservations_updated_at BEFORE UPDATE ON reservations
	FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- SECURITY DEFINER: the roles that book (webhook, admin) have no UPDATE
-- on reservation_slots.booked; only this trigger writes it.
CREATE FUNCTION reservations_count_seats() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
BEGIN
	IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status <> 'cancelled' THEN
		UPDATE reservation_slots SET booked = booked - OLD.seats WHERE id = OLD.slot_id;
	END IF;
	IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status <> 'cancelled' THEN
		UPDATE reservation_slots SET booked = booked + NEW.seats WHERE id = NEW.slot_id;
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION reservations_count_seats() IS
	'AFTER trigger on reservations: keeps reservation_slots.booked equal to the seats of its non-cancelled reservations; a full slot fails with reservation_slots_not_overbooked.';
CREATE TRIGGER reservations_count_seats AFTER INSERT OR DELETE OR UPDATE OF slot_id, seats, status
	ON reservations FOR EACH ROW EXECUTE FUNCTION reservations_count_seats();

CREATE TABLE reservation_answers (
	reservation_id bigint NOT NULL REFERENCES reservations ON DELETE CASCADE,
	field_id       bigint NOT NULL REFERENCES reservation_fields ON DELETE RESTRICT,
	value          jsonb,
	upload_id      bigint REFERENCES resident_uploads ON DELETE SET NULL,
	PRIMARY KEY (reservation_id, field_id)
);
COMMENT ON TABLE reservation_answers IS
	'Answers to a service''s extra fields for one reservation.';
COMMENT ON COLUMN reservation_answers.value IS 'The answer as JSON: a string, a number, an array of chosen options, a date string; NULL for image/location answers.';
COMMENT ON COLUMN reservation_answers.upload_id IS 'The photo or location sent in LINE, for image/location fields.';
CREATE INDEX reservation_answers_field_idx ON reservation_answers (field_id);
CREATE INDEX reservation_answers_upload_idx ON reservation_answers (upload_id);
