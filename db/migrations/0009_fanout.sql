-- 0009_fanout — the pusher's recipient snapshot as sorted id arrays per
-- batch, planned in chunks, and the target filter compiled in SQL.
--
-- 0004 kept the snapshot as one delivery_recipients row per resident.  At a
-- million residents that is a million index insertions (two indexes) before
-- the last batch can go, and measured as the slowest part of a fan-out.  A
-- batch now carries its (at most 500) resident ids as a sorted array with
-- the first and last id; batches of one delivery cover disjoint id ranges,
-- which an exclusion constraint enforces, so "a resident is in at most one
-- batch of a delivery" is still a constraint, not a promise.
--
-- Planning is a keyset walk over residents in id order: each chunk of
-- batches is written with the delivery's planned_through in one
-- transaction, so a pusher killed while planning resumes after the last
-- committed chunk and never plans a resident twice.

CREATE EXTENSION IF NOT EXISTS btree_gist;

DROP TABLE delivery_recipients;

-- True when ids is strictly increasing (so no id appears twice).
CREATE FUNCTION ids_strictly_increasing(ids bigint[]) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT coalesce(bool_and(a < b), true)
	  FROM unnest(ids[1:cardinality(ids) - 1], ids[2:cardinality(ids)]) AS t(a, b)
$$;
COMMENT ON FUNCTION ids_strictly_increasing(bigint[]) IS
	'CHECK helper: the array is sorted ascending without repeats.';

ALTER TABLE delivery_batches
	ADD COLUMN recipient_ids bigint[],
	ADD COLUMN first_resident_id bigint,
	ADD COLUMN last_resident_id bigint,
	-- A broadcast has no list; every other batch has its snapshot.
	ADD CONSTRAINT delivery_batches_snapshot CHECK (CASE
		WHEN method = 'broadcast' THEN recipient_ids IS NULL
		ELSE recipient_ids IS NOT NULL
		     AND cardinality(recipient_ids) BETWEEN 1 AND 500
		     AND cardinality(recipient_ids) = recipients
		     AND first_resident_id = recipient_ids[1]
		     AND last_resident_id = recipient_ids[cardinality(recipient_ids)]
		     AND ids_strictly_increasing(recipient_ids) END),
	ADD CONSTRAINT delivery_batches_disjoint EXCLUDE USING gist (
		delivery_id WITH =,
		int8range(first_resident_id, last_resident_id, '[]') WITH &&)
		WHERE (recipient_ids IS NOT NULL);
COMMENT ON COLUMN delivery_batches.recipient_ids IS
	'Recipient snapshot of the batch: resident ids, ascending, 1-500; NULL for a broadcast. The pusher joins residents for LINE user ids when it sends and skips residents who blocked since.';
COMMENT ON COLUMN delivery_batches.first_resident_id IS 'recipient_ids[1]; batches of a delivery cover disjoint id ranges (exclusion constraint), so nobody is in two batches.';
COMMENT ON COLUMN delivery_batches.last_resident_id IS 'The last element of recipient_ids.';
COMMENT ON COLUMN delivery_batches.recipients IS 'Residents in the snapshot (0 for a broadcast).';

ALTER TABLE deliveries
	ADD COLUMN planned_through bigint,
	ADD COLUMN planned_at timestamptz,
	ADD COLUMN sent_requests integer NOT NULL DEFAULT 0 CHECK (sent_requests >= 0);
COMMENT ON COLUMN deliveries.planned_through IS
	'Planning position: the highest resident id already in a batch (NULL before the first chunk). Written with each chunk of batches in one transaction.';
COMMENT ON COLUMN deliveries.planned_at IS 'When the last batch was planned: the snapshot is complete and targeted is final.';
COMMENT ON COLUMN deliveries.sent_requests IS 'LINE requests accepted for this delivery (batches sent).';
-- Deliveries whose snapshot is still being planned, for the planner's pickup.
CREATE INDEX deliveries_planning_idx ON deliveries (id)
	WHERE status = 'sending' AND planned_at IS NULL;

-- Target filters ----------------------------------------------------------------
--
-- The format (docs/schema.md, "Target filter"):
--   {"all": [F, ...]}   every F holds ({"all": []} is everyone)
--   {"any": [F, ...]}   at least one F holds
--   {"not": F}          F does not hold
--   {"item": "region", "any": ["kurabuchi", "haruna"]}     a single/multi item
--   {"item": "child_birthdate", "age_between": [0, 6]}   a date item: some date
--            gives an age (whole years on the send date) in the range
--   {"residents": [123, 456]}                            particular residents
-- A resident who chose nothing for an item with match_when_unset (region,
-- category) matches every value of it: nobody misses an alert before
-- choosing.  Unknown keys, items and values are refused with a message
-- naming them, so a bad target fails the delivery instead of reaching the
-- wrong people.

-- The SQL condition over "r" (residents) for target t; $1 is the send date.
-- Values are quoted with %L and ids are numbers looked up here, so nothing
-- from the filter reaches the SQL text unquoted.
CREATE FUNCTION target_sql(t jsonb, depth integer DEFAULT 0) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
	item segment_items%ROWTYPE;
	parts text[];
	e jsonb;
	ids bigint[];
	keys text[];
	k text;
	lo integer;
	hi integer;
BEGIN
	IF depth > 16 THEN
		RAISE EXCEPTION 'target filter is nested more than 16 levels deep'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF t IS NULL OR jsonb_typeof(t) <> 'object' THEN
		RAISE EXCEPTION 'target filter: expected an object, got %', coalesce(t::text, 'nothing')
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT array_agg(x ORDER BY x) INTO keys FROM jsonb_object_keys(t) AS x;

	IF keys = ARRAY['all'] OR keys = ARRAY['any'] THEN
		k := keys[1];
		IF jsonb_typeof(t -> k) <> 'array' THEN
			RAISE EXCEPTION 'target filter: "%" must be a list', k
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
		IF jsonb_array_length(t -> k) = 0 THEN
			RETURN CASE k WHEN 'all' THEN 'true' ELSE 'false' END;
		END IF;
		FOR e IN SELECT value FROM jsonb_array_elements(t -> k) LOOP
			parts := parts || target_sql(e, depth + 1);
		END LOOP;
		RETURN '(' || array_to_string(parts, CASE k WHEN 'all' THEN ' AND ' ELSE ' OR ' END) || ')';
	ELSIF keys = ARRAY['not'] THEN
		RETURN '(NOT ' || target_sql(t -> 'not', depth + 1) || ')';
	ELSIF keys = ARRAY['residents'] THEN
		IF jsonb_typeof(t -> 'residents') <> 'array' OR EXISTS (
			SELECT 1 FROM jsonb_array_elements(t -> 'residents') AS x
			 WHERE jsonb_typeof(x) <> 'number' OR x::text !~ '^[0-9]{1,18}$') THEN
			RAISE EXCEPTION 'target filter: "residents" must be a list of resident ids'
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
		SELECT coalesce(array_agg(x::text::bigint), '{}') INTO ids
		  FROM jsonb_array_elements(t -> 'residents') AS x;
		RETURN format('r.id = ANY (%L::bigint[])', ids);
	ELSIF keys = ARRAY['any', 'item'] OR keys = ARRAY['age_between', 'item'] THEN
		IF jsonb_typeof(t -> 'item') <> 'string' THEN
			RAISE EXCEPTION 'target filter: "item" must be an item key'
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
		SELECT * INTO item FROM segment_items WHERE key = t ->> 'item';
		IF NOT FOUND THEN
			RAISE EXCEPTION 'target filter: unknown segment item "%"', t ->> 'item'
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
		IF item.kind = 'date' THEN
			IF NOT t ? 'age_between' OR jsonb_typeof(t -> 'age_between') <> 'array'
			   OR jsonb_array_length(t -> 'age_between') <> 2
			   OR (t -> 'age_between' ->> 0) !~ '^[0-9]{1,3}$'
			   OR (t -> 'age_between' ->> 1) !~ '^[0-9]{1,3}$' THEN
				RAISE EXCEPTION 'target filter: item "%" takes "age_between": [from, to] in whole years', item.key
					USING ERRCODE = 'invalid_parameter_value';
			END IF;
			lo := (t -> 'age_between' ->> 0)::integer;
			hi := (t -> 'age_between' ->> 1)::integer;
			IF lo > hi OR hi > 150 THEN
				RAISE EXCEPTION 'target filter: item "%": age range % to % is empty or beyond 150', item.key, lo, hi
					USING ERRCODE = 'invalid_parameter_value';
			END IF;
			-- Age a in whole years on $1: birth <= $1 - a years and
			-- birth > $1 - (a + 1) years.
			RETURN format('EXISTS (SELECT 1 FROM resident_dates d WHERE d.resident_id = r.id'
				      ' AND d.item_id = %s AND d.value <= ($1 - make_interval(years => %s))::date'
				      ' AND d.value > ($1 - make_interval(years => %s))::date)',
				      item.id, lo, hi + 1);
		END IF;
		IF NOT t ? 'any' OR jsonb_typeof(t -> 'any') <> 'array' OR EXISTS (
			SELECT 1 FROM jsonb_array_elements(t -> 'any') AS x WHERE jsonb_typeof(x) <> 'string') THEN
			RAISE EXCEPTION 'target filter: item "%" takes "any": [value keys]', item.key
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
		SELECT x INTO k FROM jsonb_array_elements_text(t -> 'any') AS x
		 WHERE NOT EXISTS (SELECT 1 FROM segment_values v WHERE v.item_id = item.id AND v.key = x)
		 LIMIT 1;
		IF FOUND THEN
			RAISE EXCEPTION 'target filter: item "%" has no value "%"', item.key, k
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
		SELECT coalesce(array_agg(v.id ORDER BY v.id), '{}') INTO ids
		  FROM segment_values v
		 WHERE v.item_id = item.id AND v.key IN (SELECT jsonb_array_elements_text(t -> 'any'));
		IF item.match_when_unset THEN
			RETURN format('(EXISTS (SELECT 1 FROM resident_choices c WHERE c.resident_id = r.id'
				      ' AND c.value_id = ANY (%L::bigint[]))'
				      ' OR NOT EXISTS (SELECT 1 FROM resident_choices c WHERE c.resident_id = r.id'
				      ' AND c.item_id = %s))', ids, item.id);
		END IF;
		RETURN format('EXISTS (SELECT 1 FROM resident_choices c WHERE c.resident_id = r.id'
			      ' AND c.value_id = ANY (%L::bigint[]))', ids);
	END IF;
	RAISE EXCEPTION 'target filter: unexpected keys % (use all, any, not, item with any or age_between, residents)',
		array_to_string(keys, ', ')
		USING ERRCODE = 'invalid_parameter_value';
END
$$;
COMMENT ON FUNCTION target_sql(jsonb, integer) IS
	'Compiles a target filter to an SQL condition over residents r ($1 = the send date); raises invalid_parameter_value naming what is wrong.';

-- The audience condition of a delivery: testers for a test, everyone, or
-- its target filter.
CREATE FUNCTION delivery_audience_sql(d deliveries) RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
	IF d.is_test THEN
		RETURN 'r.is_tester';
	ELSIF d.everyone THEN
		RETURN 'true';
	END IF;
	RETURN target_sql(d.target);
END
$$;

-- The next page of a delivery's recipients after resident id p_after, in id
-- order: active residents only (who blocked the account is never targeted).
CREATE FUNCTION delivery_recipients_page(p_delivery bigint, p_after bigint, p_limit integer)
RETURNS TABLE (resident_id bigint, line_user_id text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
	d deliveries%ROWTYPE;
BEGIN
	SELECT * INTO d FROM deliveries WHERE id = p_delivery;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'delivery % does not exist', p_delivery
			USING ERRCODE = 'no_data_found';
	END IF;
	RETURN QUERY EXECUTE
		'SELECT r.id, r.line_user_id FROM residents r'
		' WHERE r.status = ''active'' AND r.id > $2 AND ' || delivery_audience_sql(d) ||
		' ORDER BY r.id LIMIT $3'
		USING (coalesce(d.send_at, d.started_at, now()) AT TIME ZONE 'Asia/Tokyo')::date,
		      p_after, p_limit;
END
$$;
COMMENT ON FUNCTION delivery_recipients_page(bigint, bigint, integer) IS
	'The pusher''s planner: the next p_limit active recipients of a delivery after resident id p_after (ids ascending). Children''s ages are taken on the send date in Japan.';

-- How many active residents a target reaches on a date (the composer's live
-- count and the quota check).
CREATE FUNCTION target_count(p_target jsonb, p_on date) RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
DECLARE
	n bigint;
BEGIN
	EXECUTE 'SELECT count(*) FROM residents r WHERE r.status = ''active'' AND '
		|| target_sql(p_target)
		INTO n USING p_on;
	RETURN n;
END
$$;
COMMENT ON FUNCTION target_count(jsonb, date) IS
	'Active residents a target filter reaches on a date (composer''s live count, quota check).';

-- Active residents a delivery's audience has now (the quota check before
-- it starts).
CREATE FUNCTION delivery_audience_count(p_delivery bigint) RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
DECLARE
	d deliveries%ROWTYPE;
	n bigint;
BEGIN
	SELECT * INTO d FROM deliveries WHERE id = p_delivery;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'delivery % does not exist', p_delivery
			USING ERRCODE = 'no_data_found';
	END IF;
	EXECUTE 'SELECT count(*) FROM residents r WHERE r.status = ''active'' AND '
		|| delivery_audience_sql(d)
		INTO n USING (coalesce(d.send_at, d.started_at, now()) AT TIME ZONE 'Asia/Tokyo')::date;
	RETURN n;
END
$$;

-- Plan the next chunk of a delivery: up to p_batches multicast batches of
-- up to 500 residents after planned_through, written with the new
-- planned_through and targeted in the caller's transaction (the caller
-- holds the delivery row locked).  Marks the plan complete (planned_at)
-- when the walk reached the end.  Returns what was planned.
CREATE FUNCTION delivery_plan_chunk(p_delivery bigint, p_batches integer)
RETURNS TABLE (batches integer, recipients integer, complete boolean)
LANGUAGE plpgsql AS $$
DECLARE
	after bigint;
	first_no integer;
	nb integer;
	nr integer;
	last_id bigint;
BEGIN
	IF p_batches < 1 OR p_batches > 1000 THEN
		RAISE EXCEPTION 'plan chunk of % batches is out of range (1-1000)', p_batches
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT coalesce(d.planned_through, 0) INTO after
	  FROM deliveries d WHERE d.id = p_delivery AND d.status = 'sending' AND d.planned_at IS NULL;
	IF NOT FOUND THEN
		RETURN QUERY SELECT 0, 0, true;
		RETURN;
	END IF;
	SELECT coalesce(max(b.batch_no) + 1, 0) INTO first_no
	  FROM delivery_batches b WHERE b.delivery_id = p_delivery;
	WITH page AS (
		SELECT p.resident_id AS rid, (row_number() OVER (ORDER BY p.resident_id) - 1) / 500 AS g
		  FROM delivery_recipients_page(p_delivery, after, p_batches * 500) AS p
	), grouped AS (
		SELECT g, array_agg(rid ORDER BY rid) AS ids FROM page GROUP BY g
	), ins AS (
		INSERT INTO delivery_batches (delivery_id, batch_no, method, recipients,
					      recipient_ids, first_resident_id, last_resident_id)
		SELECT p_delivery, first_no + g::integer, 'multicast', cardinality(ids), ids,
		       ids[1], ids[cardinality(ids)]
		  FROM grouped
		RETURNING delivery_batches.recipients AS n, delivery_batches.last_resident_id AS last
	)
	SELECT count(*)::integer, coalesce(sum(n), 0)::integer, max(last) INTO nb, nr, last_id FROM ins;
	UPDATE deliveries d
	   SET planned_through = coalesce(last_id, d.planned_through),
	       targeted = d.targeted + nr,
	       planned_at = CASE WHEN nr < p_batches * 500 THEN now() END
	 WHERE d.id = p_delivery;
	RETURN QUERY SELECT nb, nr, nr < p_batches * 500;
END
$$;
COMMENT ON FUNCTION delivery_plan_chunk(bigint, integer) IS
	'The pusher''s planner: writes the next chunk of multicast batches of a sending delivery (keyset walk over resident ids), its planned_through and targeted; planned_at when complete.';

GRANT EXECUTE ON FUNCTION ids_strictly_increasing(bigint[]), target_sql(jsonb, integer),
	delivery_audience_sql(deliveries), delivery_recipients_page(bigint, bigint, integer),
	target_count(jsonb, date), delivery_audience_count(bigint), delivery_plan_chunk(bigint, integer)
	TO hotline_pusher;
GRANT EXECUTE ON FUNCTION ids_strictly_increasing(bigint[]), target_sql(jsonb, integer),
	target_count(jsonb, date)
	TO hotline_admin;
GRANT UPDATE (planned_through, planned_at, sent_requests) ON deliveries TO hotline_pusher;
