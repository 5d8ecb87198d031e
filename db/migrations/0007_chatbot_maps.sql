-- 0007_chatbot_maps — chatbot (FAQ with keywords, scenario tree, garbage
-- sorting, query analytics and the unanswered-question workflow) and maps
-- (facilities by category, shelters open/closed with capacity, evacuation
-- guidance per disaster type).  Spec 4(5) and 4(6).

-- Chatbot ---------------------------------------------------------------------

CREATE TABLE chatbot_faqs (
	id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	department_id bigint NOT NULL REFERENCES departments ON DELETE RESTRICT,
	question      text NOT NULL CHECK (length(question) BETWEEN 1 AND 500),
	answer        text NOT NULL CHECK (length(answer) BETWEEN 1 AND 5000),
	link_url      text CHECK (link_url ~ '^https://'),
	keywords      text[] NOT NULL DEFAULT '{}',
	enabled       boolean NOT NULL DEFAULT true,
	created_at    timestamptz NOT NULL DEFAULT now(),
	updated_at    timestamptz NOT NULL DEFAULT now(),
	updated_by    bigint REFERENCES staff
);
COMMENT ON TABLE chatbot_faqs IS
	'Questions and answers the chatbot offers: the resident''s text is matched against keywords and questions, several candidates are shown, the chosen one is answered (spec 4(5) 1). Each is maintained by its department (spec 4(5) 7).';
COMMENT ON COLUMN chatbot_faqs.answer IS 'Answer text sent in LINE (at most 5000 characters, LINE''s text limit).';
COMMENT ON COLUMN chatbot_faqs.keywords IS 'Words that point to this question (normalised NFKC by the application); searched with the GIN index.';
COMMENT ON COLUMN chatbot_faqs.enabled IS 'Offered to residents; false hides it without losing its analytics.';
CREATE INDEX chatbot_faqs_keywords_idx ON chatbot_faqs USING gin (keywords);
CREATE INDEX chatbot_faqs_department_idx ON chatbot_faqs (department_id);
CREATE TRIGGER chatbot_faqs_updated_at BEFORE UPDATE ON chatbot_faqs
	FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE chatbot_nodes (
	id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	parent_id     bigint REFERENCES chatbot_nodes ON DELETE CASCADE,
	department_id bigint REFERENCES departments ON DELETE RESTRICT,
	position      integer NOT NULL DEFAULT 0,
	label         text NOT NULL CHECK (length(label) BETWEEN 1 AND 20),
	answer        text CHECK (length(answer) <= 5000),
	faq_id        bigint REFERENCES chatbot_faqs ON DELETE SET NULL,
	link_url      text CHECK (link_url ~ '^https://'),
	enabled       boolean NOT NULL DEFAULT true,
	created_at    timestamptz NOT NULL DEFAULT now(),
	updated_at    timestamptz NOT NULL DEFAULT now(),
	updated_by    bigint REFERENCES staff,
	CHECK (parent_id <> id)
);
COMMENT ON TABLE chatbot_nodes IS
	'Scenario chatbot tree (spec 4(5) 1): the resident picks a category, then a sub-category..., down to an answer. Deleting a node deletes its subtree.';
COMMENT ON COLUMN chatbot_nodes.parent_id IS 'Enclosing node; NULL for the top-level categories.';
COMMENT ON COLUMN chatbot_nodes.label IS 'Button text (LINE quick reply labels hold at most 20 characters).';
COMMENT ON COLUMN chatbot_nodes.answer IS 'Answer shown when the node is picked (leaf), if any.';
COMMENT ON COLUMN chatbot_nodes.faq_id IS 'Or: answer with this FAQ.';
CREATE INDEX chatbot_nodes_parent_idx ON chatbot_nodes (parent_id, position);
CREATE TRIGGER chatbot_nodes_updated_at BEFORE UPDATE ON chatbot_nodes
	FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Garbage sorting (spec 4(5) 2), in the shape of the 5374.jp open data:
-- categories, items with their category, areas with collection days.

CREATE TABLE garbage_categories (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	key         text NOT NULL UNIQUE CHECK (key ~ '^[a-z][a-z0-9_]{0,62}$'),
	name        text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100),
	color       text CHECK (color ~ '^#[0-9a-fA-F]{6}$'),
	description text NOT NULL DEFAULT '',
	position    integer NOT NULL DEFAULT 0
);
COMMENT ON TABLE garbage_categories IS 'Garbage categories (燃えるごみ, 燃えないごみ, 資源ごみ...).';
COMMENT ON COLUMN garbage_categories.color IS 'Display colour, #RRGGBB.';
CREATE TRIGGER garbage_categories_key_permanent BEFORE UPDATE OF key ON garbage_categories
	FOR EACH ROW EXECUTE FUNCTION refuse_key_change();

CREATE TABLE garbage_items (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	category_id bigint NOT NULL REFERENCES garbage_categories ON DELETE RESTRICT,
	name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
	kana        text NOT NULL DEFAULT '',
	notice      text NOT NULL DEFAULT '',
	keywords    text[] NOT NULL DEFAULT '{}',
	updated_at  timestamptz NOT NULL DEFAULT now(),
	updated_by  bigint REFERENCES staff,
	UNIQUE (name, category_id)
);
COMMENT ON TABLE garbage_items IS 'Things residents ask how to throw away, with their category and how to put them out.';
COMMENT ON COLUMN garbage_items.kana IS 'Reading (hiragana), for matching and ordering.';
COMMENT ON COLUMN garbage_items.notice IS 'How to put it out (水分をしっかり切る...).';
COMMENT ON COLUMN garbage_items.keywords IS 'Other words residents use for it.';
CREATE INDEX garbage_items_keywords_idx ON garbage_items USING gin (keywords);
CREATE INDEX garbage_items_category_idx ON garbage_items (category_id);
CREATE TRIGGER garbage_items_updated_at BEFORE UPDATE ON garbage_items
	FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE garbage_areas (
	id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name   text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
	center text NOT NULL DEFAULT ''
);
COMMENT ON TABLE garbage_areas IS 'Collection areas (地名) and the cleaning centre that serves each.';

CREATE TABLE garbage_collection_days (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	area_id     bigint NOT NULL REFERENCES garbage_areas ON DELETE CASCADE,
	category_id bigint NOT NULL REFERENCES garbage_categories ON DELETE CASCADE,
	weekday     smallint NOT NULL CHECK (weekday BETWEEN 0 AND 6),
	nth         smallint CHECK (nth BETWEEN 1 AND 5),
	UNIQUE NULLS NOT DISTINCT (area_id, category_id, weekday, nth)
);
COMMENT ON TABLE garbage_collection_days IS
	'When a category is collected in an area: every given weekday, or its nth occurrence in the month ("金1 金3" = 1st and 3rd Friday).';
COMMENT ON COLUMN garbage_collection_days.weekday IS '0 = Sunday ... 6 = Saturday (as extract(dow)).';
COMMENT ON COLUMN garbage_collection_days.nth IS 'Occurrence of that weekday in the month (1-5); NULL = every week.';

CREATE TABLE chatbot_queries (
	id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	asked_at        timestamptz NOT NULL DEFAULT now(),
	kind            text NOT NULL CHECK (kind IN ('text', 'scenario', 'garbage')),
	query_text      text CHECK (length(query_text) <= 1000),
	candidates      bigint[] NOT NULL DEFAULT '{}',
	faq_id          bigint REFERENCES chatbot_faqs ON DELETE SET NULL,
	node_id         bigint REFERENCES chatbot_nodes ON DELETE SET NULL,
	garbage_item_id bigint REFERENCES garbage_items ON DELETE SET NULL,
	answered        boolean NOT NULL,
	review_status   text CHECK (review_status IN ('open', 'faq_created', 'dismissed')),
	review_faq_id   bigint REFERENCES chatbot_faqs ON DELETE SET NULL,
	reviewed_by     bigint REFERENCES staff,
	reviewed_at     timestamptz,
	CONSTRAINT chatbot_queries_review_unanswered CHECK ((review_status IS NULL) = answered)
);
COMMENT ON TABLE chatbot_queries IS
	'Every chatbot question, for "most viewed" analytics (spec 4(5) 4) and the list of questions that found no answer, which staff turn into new FAQs (spec 4(5) 5). Deliberately not linked to the resident.';
COMMENT ON COLUMN chatbot_queries.kind IS 'text = free text; scenario = a scenario node was picked; garbage = a garbage-sorting lookup.';
COMMENT ON COLUMN chatbot_queries.query_text IS 'What the resident typed (may hold personal data they typed: purge with the retention job).';
COMMENT ON COLUMN chatbot_queries.candidates IS 'chatbot_faqs ids offered as candidates, best first.';
COMMENT ON COLUMN chatbot_queries.faq_id IS 'FAQ finally answered, if any.';
COMMENT ON COLUMN chatbot_queries.answered IS 'Whether the resident reached an answer.';
COMMENT ON COLUMN chatbot_queries.review_status IS 'For unanswered queries only: open = to review; faq_created = turned into review_faq_id; dismissed.';
CREATE INDEX chatbot_queries_asked_idx ON chatbot_queries (asked_at);
CREATE INDEX chatbot_queries_faq_idx ON chatbot_queries (faq_id, asked_at);
CREATE INDEX chatbot_queries_open_idx ON chatbot_queries (asked_at) WHERE review_status = 'open';

-- Maps ----------------------------------------------------------------------------

CREATE TABLE facility_categories (
	id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	key        text NOT NULL UNIQUE CHECK (key ~ '^[a-z][a-z0-9_]{0,62}$'),
	name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
	icon       text,
	color      text CHECK (color ~ '^#[0-9a-fA-F]{6}$'),
	position   integer NOT NULL DEFAULT 0,
	retired_at timestamptz
);
COMMENT ON TABLE facility_categories IS 'Categories facilities are shown by on the map (spec 4(6) 1): 市役所・支所, 図書館, 公園...';
COMMENT ON COLUMN facility_categories.icon IS 'Name of the map marker icon.';
CREATE TRIGGER facility_categories_key_permanent BEFORE UPDATE OF key ON facility_categories
	FOR EACH ROW EXECUTE FUNCTION refuse_key_change();

CREATE TABLE facilities (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	category_id bigint NOT NULL REFERENCES facility_categories ON DELETE RESTRICT,
	name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
	kana        text NOT NULL DEFAULT '',
	address     text NOT NULL DEFAULT '',
	latitude    double precision NOT NULL CHECK (latitude BETWEEN -90 AND 90),
	longitude   double precision NOT NULL CHECK (longitude BETWEEN -180 AND 180),
	location    point GENERATED ALWAYS AS (point(longitude, latitude)) STORED,
	phone       text,
	url         text CHECK (url ~ '^https?://'),
	description text NOT NULL DEFAULT '',
	published   boolean NOT NULL DEFAULT true,
	created_at  timestamptz NOT NULL DEFAULT now(),
	updated_at  timestamptz NOT NULL DEFAULT now(),
	updated_by  bigint REFERENCES staff
);
COMMENT ON TABLE facilities IS 'City facilities and places shown on the map (spec 4(6) 3); shelters are facilities with a shelters row.';
COMMENT ON COLUMN facilities.latitude IS 'WGS84 degrees.';
COMMENT ON COLUMN facilities.longitude IS 'WGS84 degrees.';
COMMENT ON COLUMN facilities.location IS 'point(longitude, latitude), generated, for nearest-first search with the GiST index (ORDER BY location <-> point(lon, lat)); refine with real distances in the application.';
COMMENT ON COLUMN facilities.published IS 'Shown to residents.';
CREATE INDEX facilities_location_idx ON facilities USING gist (location);
CREATE INDEX facilities_category_idx ON facilities (category_id);
CREATE TRIGGER facilities_updated_at BEFORE UPDATE ON facilities
	FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE disaster_types (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	key         text NOT NULL UNIQUE CHECK (key ~ '^[a-z][a-z0-9_]{0,62}$'),
	name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
	position    integer NOT NULL DEFAULT 0
);
COMMENT ON TABLE disaster_types IS 'Kinds of disaster (the hazards of the GSI shelter data): what shelters are designated for, and what evacuation guidance is given for.';
CREATE TRIGGER disaster_types_key_permanent BEFORE UPDATE OF key ON disaster_types
	FOR EACH ROW EXECUTE FUNCTION refuse_key_change();

INSERT INTO disaster_types (key, name, position) VALUES
	('flood',        '洪水',                           10),
	('landslide',    '崖崩れ、土石流及び地滑り',       20),
	('storm_surge',  '高潮',                           30),
	('earthquake',   '地震',                           40),
	('tsunami',      '津波',                           50),
	('large_fire',   '大規模な火事',                   60),
	('inland_flood', '内水氾濫',                       70),
	('volcano',      '火山現象',                       80);

CREATE TABLE shelters (
	facility_id        bigint PRIMARY KEY REFERENCES facilities ON DELETE CASCADE,
	gsi_id             text UNIQUE,
	designated_shelter boolean NOT NULL DEFAULT false,
	emergency_site     boolean NOT NULL DEFAULT false,
	welfare            boolean NOT NULL DEFAULT false,
	capacity           integer CHECK (capacity >= 0),
	status             text NOT NULL DEFAULT 'closed' CHECK (status IN ('closed', 'open', 'full')),
	status_changed_at  timestamptz,
	status_changed_by  bigint REFERENCES staff,
	note               text NOT NULL DEFAULT '',
	CONSTRAINT shelters_designated CHECK (designated_shelter OR emergency_site OR welfare)
);
COMMENT ON TABLE shelters IS 'Shelter side of a facility: designations, capacity and whether it is open now (spec 4(6) 3, 4).';
COMMENT ON COLUMN shelters.gsi_id IS '共通ID of the GSI/Cabinet Office designated shelter data, for re-imports.';
COMMENT ON COLUMN shelters.designated_shelter IS '指定避難所 (a place to stay).';
COMMENT ON COLUMN shelters.emergency_site IS '指定緊急避難場所 (a place to flee to immediately).';
COMMENT ON COLUMN shelters.welfare IS 'For people needing care (要配慮者 / 福祉避難所) only.';
COMMENT ON COLUMN shelters.capacity IS 'People it can take; NULL when unknown.';
COMMENT ON COLUMN shelters.status IS 'closed (未開設), open (開設), full (満員) — set by staff during a disaster.';
CREATE INDEX shelters_open_idx ON shelters (facility_id) WHERE status <> 'closed';

CREATE TABLE shelter_hazards (
	facility_id      bigint NOT NULL REFERENCES shelters ON DELETE CASCADE,
	disaster_type_id bigint NOT NULL REFERENCES disaster_types ON DELETE RESTRICT,
	PRIMARY KEY (facility_id, disaster_type_id)
);
COMMENT ON TABLE shelter_hazards IS 'Which disasters a shelter or emergency site is designated for (a flood shelter may not be safe in an earthquake).';
CREATE INDEX shelter_hazards_type_idx ON shelter_hazards (disaster_type_id);

CREATE TABLE evacuation_steps (
	id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	disaster_type_id bigint NOT NULL REFERENCES disaster_types ON DELETE CASCADE,
	parent_id        bigint REFERENCES evacuation_steps ON DELETE CASCADE,
	position         integer NOT NULL DEFAULT 0,
	label            text NOT NULL CHECK (length(label) BETWEEN 1 AND 20),
	body             text NOT NULL DEFAULT '' CHECK (length(body) <= 5000),
	link_url         text CHECK (link_url ~ '^https://'),
	show_shelters    boolean NOT NULL DEFAULT false,
	updated_at       timestamptz NOT NULL DEFAULT now(),
	updated_by       bigint REFERENCES staff,
	CHECK (parent_id <> id)
);
COMMENT ON TABLE evacuation_steps IS
	'Evacuation guidance per disaster type as a scenario (spec 4(6) 5): each step a question or an instruction, children the resident''s choices ("家は浸水想定区域内？" -> "はい" -> ...).';
COMMENT ON COLUMN evacuation_steps.parent_id IS 'Previous step; NULL for the first step of the disaster type.';
COMMENT ON COLUMN evacuation_steps.label IS 'Button text leading to this step (at most 20 characters).';
COMMENT ON COLUMN evacuation_steps.show_shelters IS 'At this step, offer the nearest open shelters designated for the disaster type, with a route link.';
CREATE INDEX evacuation_steps_parent_idx ON evacuation_steps (disaster_type_id, parent_id, position);
CREATE TRIGGER evacuation_steps_updated_at BEFORE UPDATE ON evacuation_steps
	FOR EACH ROW EXECUTE FUNCTION set_updated_at();
