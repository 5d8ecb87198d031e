-- 0012_fanout_speed — planning a fan-out at the speed LINE allows
-- (issue 5: 1,000,000 residents planned and sent at >= 500,000/s on 2 cores;
-- a selective segment planned ahead of LINE's 200 requests a second).
--
-- Measured on 1,000,000 residents (EXPLAIN ANALYZE and the bench), the
-- planning of 0009 spent its time in:
--   * compressing each batch's id array with pglz (a 4 KB array of sorted
--     bigints: ~0.4 ms each, most of a chunk's INSERT).  The column now uses
--     lz4 (~15 times cheaper to compress, and the array is stored out of
--     line, so the batch's two later UPDATEs (claimed, sent) copy an 18-byte
--     TOAST pointer instead of the 1.6 KB compressed array kept in the row);
--   * the CHECK's ids_strictly_increasing(), an SQL function that unnests
--     two slices of the array (~0.18 ms a batch): now a PL/pgSQL loop over
--     the array (~0.07 ms), same result;
--   * delivery_recipients_page(), a PL/pgSQL set-returning function whose
--     rows are materialised and fed one by one to a window function and
--     array_agg: the chunk is now one statement that collects the page in
--     one ordered array and slices it into batches of 500;
--   * for a selective segment (e.g. 20代, a tenth of the residents), the
--     walk over every resident in id order with a merge semi-join against
--     resident_choices (~100 ms per 10,000 recipients).  A target with a
--     positive condition now drives the walk from that condition's index
--     (resident_choices_value_idx (value_id, resident_id), resident_dates
--     (item_id, value), or the listed ids): the candidate ids after the
--     planning position are read from the index, then checked against
--     residents (active) and the whole target condition, so the audience is
--     exactly the one target_sql() defines.
-- The planning functions also run with jit off: a chunk is a few
-- milliseconds of work, and compiling it (above jit_above_cost) took longer.
--
-- Nothing here weakens exactly-once: the batches are still written with the
-- planning position in one ordinary (logged, synchronously committed)
-- transaction before any of them can be claimed.

ALTER TABLE delivery_batches ALTER COLUMN recipient_ids SET COMPRESSION lz4;

CREATE OR REPLACE FUNCTION ids_strictly_increasing(ids bigint[]) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
	prev bigint;
	x bigint;
BEGIN
	IF ids IS NULL THEN
		RETURN true;
	END IF;
	FOREACH x IN ARRAY ids LOOP
		IF x IS NULL OR x <= prev THEN
			RETURN false;
		END IF;
		prev := x;
	END LOOP;
	RETURN true;
END
$$;

-- A query over "id" that returns (at least) every resident for whom the
-- target filter holds, read from an index, or NULL when the filter has no
-- such positive condition (everyone, a "not", an item that matches
-- residents who set nothing).  exact is true when the query returns
-- exactly those residents (then the caller need not check the filter
-- again); otherwise the caller checks the whole filter on each candidate,
-- and this only chooses where the walk starts.  $1 is the send date, as in
-- target_sql().  Call it only on a filter target_sql() accepted.
CREATE FUNCTION target_driver_sql(t jsonb, depth integer DEFAULT 0, OUT sql text, OUT exact boolean)
LANGUAGE plpgsql STABLE AS $$
DECLARE
	item segment_items%ROWTYPE;
	parts text[];
	e jsonb;
	s text;
	ex boolean;
	ids bigint[];
	keys text[];
BEGIN
	exact := false;
	IF depth > 16 OR t IS NULL OR jsonb_typeof(t) <> 'object' THEN
		RETURN;
	END IF;
	SELECT array_agg(x ORDER BY x) INTO keys FROM jsonb_object_keys(t) AS x;
	IF keys = ARRAY['all'] AND jsonb_typeof(t -> 'all') = 'array' THEN
		-- Any one condition of an "all" narrows it: take the first that
		-- can; exact only when it is the only condition.
		FOR e IN SELECT value FROM jsonb_array_elements(t -> 'all') LOOP
			SELECT x.sql, x.exact INTO s, ex FROM target_driver_sql(e, depth + 1) AS x;
			IF s IS NOT NULL THEN
				sql := s;
				exact := ex AND jsonb_array_length(t -> 'all') = 1;
				RETURN;
			END IF;
		END LOOP;
	ELSIF keys = ARRAY['any'] AND jsonb_typeof(t -> 'any') = 'array' THEN
		-- Every alternative must be narrowed, or the union is not a superset.
		IF jsonb_array_length(t -> 'any') = 0 THEN
			sql := 'SELECT NULL::bigint AS id WHERE false';
			exact := true;
			RETURN;
		END IF;
		exact := true;
		FOR e IN SELECT value FROM jsonb_array_elements(t -> 'any') LOOP
			SELECT x.sql, x.exact INTO s, ex FROM target_driver_sql(e, depth + 1) AS x;
			IF s IS NULL THEN
				exact := false;
				RETURN;
			END IF;
			parts := parts || s;
			exact := exact AND ex;
		END LOOP;
		sql := array_to_string(parts, ' UNION ALL ');
	ELSIF keys = ARRAY['residents'] AND jsonb_typeof(t -> 'residents') = 'array' THEN
		SELECT coalesce(array_agg(x::text::bigint), '{}') INTO ids
		  FROM jsonb_array_elements(t -> 'residents') AS x;
		sql := format('SELECT unnest(%L::bigint[]) AS id', ids);
		exact := true;
	ELSIF (keys = ARRAY['any', 'item'] OR keys = ARRAY['age_between', 'item'])
	      AND jsonb_typeof(t -> 'item') = 'string' THEN
		SELECT * INTO item FROM segment_items WHERE key = t ->> 'item';
		IF NOT FOUND THEN
			RETURN;
		END IF;
		IF item.kind = 'date' AND t ? 'age_between' THEN
			sql := format('SELECT d.resident_id AS id FROM resident_dates d'
				      ' WHERE d.item_id = %s AND d.value <= ($1 - make_interval(years => %s))::date'
				      ' AND d.value > ($1 - make_interval(years => %s))::date',
				      item.id, (t -> 'age_between' ->> 0)::integer,
				      (t -> 'age_between' ->> 1)::integer + 1);
			exact := true;
			RETURN;
		END IF;
		IF item.kind = 'date' OR item.match_when_unset OR NOT t ? 'any'
		   OR jsonb_typeof(t -> 'any') <> 'array' THEN
			RETURN;
		END IF;
		SELECT coalesce(array_agg(v.id ORDER BY v.id), '{}') INTO ids
		  FROM segment_values v
		 WHERE v.item_id = item.id AND v.key IN (SELECT jsonb_array_elements_text(t -> 'any'));
		exact := true;
		-- One value: an equality, so that the index returns the
		-- residents in id order and the walk stops at the chunk's end.
		IF cardinality(ids) = 1 THEN
			sql := format('SELECT c.resident_id AS id FROM resident_choices c'
				      ' WHERE c.value_id = %s', ids[1]);
		ELSE
			sql := format('SELECT c.resident_id AS id FROM resident_choices c'
				      ' WHERE c.value_id = ANY (%L::bigint[])', ids);
		END IF;
	END IF;
END
$$;
COMMENT ON FUNCTION target_driver_sql(jsonb, integer) IS
	'The planner''s index-driven walk: a query over id returning a superset of the residents a target filter reaches (exact: those residents), or NULL when it has no positive condition to start from.';

-- Plan the next chunk of a delivery: up to p_batches multicast batches of
-- up to 500 residents after planned_through, written with the new
-- planned_through and targeted in the caller's transaction (the caller
-- holds the delivery row locked, or the pusher's planning advisory lock on
-- its id: the row itself is updated only at the end, so that the answers
-- recorded meanwhile, which update it too, do not wait for the chunk).
-- Marks the plan complete (planned_at) when the walk reached the end.
-- Returns what was planned.
--
-- One statement per chunk: the page of recipients is collected into one
-- ordered array and cut into slices of 500, each one batch row.  A target
-- with a positive condition (target_driver_sql) walks that condition's
-- index instead of every resident: up to p_batches * 500 candidate ids after
-- planned_through, each checked against residents and the whole target; the
-- planning position is then the last candidate looked at, so a chunk may
-- hold fewer residents than it could (a candidate who blocked the account,
-- or fails another condition of the target) without being the last.
CREATE OR REPLACE FUNCTION delivery_plan_chunk(p_delivery bigint, p_batches integer)
RETURNS TABLE (batches integer, recipients integer, complete boolean)
LANGUAGE plpgsql AS $$
DECLARE
	d deliveries%ROWTYPE;
	after bigint;
	first_no integer;
	lim integer;
	send_date date;
	cond text;
	driver text;
	exact boolean;
	ncand integer;
	through bigint;
	done boolean;
	nb integer;
	nr integer;
	last_id bigint;
BEGIN
	IF p_batches < 1 OR p_batches > 1000 THEN
		RAISE EXCEPTION 'plan chunk of % batches is out of range (1-1000)', p_batches
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT * INTO d FROM deliveries
	 WHERE id = p_delivery AND status = 'sending' AND planned_at IS NULL;
	IF NOT FOUND THEN
		RETURN QUERY SELECT 0, 0, true;
		RETURN;
	END IF;
	after := coalesce(d.planned_through, 0);
	lim := p_batches * 500;
	send_date := (coalesce(d.send_at, d.started_at, now()) AT TIME ZONE 'Asia/Tokyo')::date;
	cond := delivery_audience_sql(d);
	IF NOT d.is_test AND NOT d.everyone THEN
		SELECT x.sql, x.exact INTO driver, exact FROM target_driver_sql(d.target) AS x;
	END IF;
	SELECT coalesce(max(b.batch_no) + 1, 0) INTO first_no
	  FROM delivery_batches b WHERE b.delivery_id = p_delivery;

	IF driver IS NOT NULL THEN
		-- Each candidate is looked up in residents by its id: an index
		-- probe, forced by the EXISTS in the select list (~2 us each).  A
		-- semi-join lets the planner hash every active resident, as it
		-- cannot estimate the candidates' id range.  (For a broad segment
		-- a merge with the index over that range would be cheaper still.)
		-- The planning position is the last candidate.
		EXECUTE
			'WITH page AS (SELECT array_agg(x.id ORDER BY x.id) FILTER (WHERE x.ok) AS a,'
			'  count(*)::integer AS ncand, max(x.id) AS through'
			' FROM (SELECT w.id, EXISTS (SELECT 1 FROM residents r WHERE r.id = w.id'
			'  AND r.status = ''active''' || CASE WHEN exact THEN '' ELSE ' AND ' || cond END
			|| ') AS ok FROM (SELECT DISTINCT w.id FROM (' || driver || ') w'
			'  WHERE w.id > $2 ORDER BY w.id LIMIT $3) w) x),'
			' ins AS (INSERT INTO delivery_batches (delivery_id, batch_no, method, recipients,'
			'  recipient_ids, first_resident_id, last_resident_id)'
			'  SELECT $4, $5 + s.i, ''multicast'', cardinality(s.ids), s.ids, s.ids[1],'
			'   s.ids[cardinality(s.ids)]'
			'  FROM page, LATERAL (SELECT i, page.a[i * 500 + 1 : i * 500 + 500] AS ids'
			'   FROM generate_series(0, (cardinality(page.a) - 1) / 500) AS i) s'
			'  RETURNING delivery_batches.recipients AS n, delivery_batches.last_resident_id AS last)'
			' SELECT (SELECT ncand FROM page), (SELECT through FROM page),'
			'  count(*)::integer, coalesce(sum(n), 0)::integer, max(last) FROM ins'
			INTO ncand, through, nb, nr, last_id
			USING send_date, after, lim, p_delivery, first_no;
		done := ncand < lim;
	ELSE
		EXECUTE
			'WITH page AS (SELECT array_agg(p.id ORDER BY p.id) AS a FROM ('
			'  SELECT r.id FROM residents r WHERE r.status = ''active'' AND r.id > $2'
			'   AND ' || cond || ' ORDER BY r.id LIMIT $3) p),'
			' ins AS (INSERT INTO delivery_batches (delivery_id, batch_no, method, recipients,'
			'  recipient_ids, first_resident_id, last_resident_id)'
			'  SELECT $4, $5 + s.i, ''multicast'', cardinality(s.ids), s.ids, s.ids[1],'
			'   s.ids[cardinality(s.ids)]'
			'  FROM page, LATERAL (SELECT i, page.a[i * 500 + 1 : i * 500 + 500] AS ids'
			'   FROM generate_series(0, (cardinality(page.a) - 1) / 500) AS i) s'
			'  RETURNING delivery_batches.recipients AS n, delivery_batches.last_resident_id AS last)'
			' SELECT count(*)::integer, coalesce(sum(n), 0)::integer, max(last) FROM ins'
			INTO nb, nr, last_id
			USING send_date, after, lim, p_delivery, first_no;
		through := last_id;
		done := nr < lim;
	END IF;
	UPDATE deliveries x
	   SET planned_through = coalesce(greatest(through, last_id), x.planned_through),
	       targeted = x.targeted + nr,
	       planned_at = CASE WHEN done THEN now() END
	 WHERE x.id = p_delivery;
	RETURN QUERY SELECT nb, nr, done;
END
$$;
ALTER FUNCTION delivery_plan_chunk(bigint, integer) SET jit = off;
COMMENT ON FUNCTION delivery_plan_chunk(bigint, integer) IS
	'The pusher''s planner: writes the next chunk of multicast batches of a sending delivery (one statement: a keyset walk over resident ids, driven by the target''s index when it has a positive condition), its planned_through and targeted; planned_at when complete.';
COMMENT ON COLUMN deliveries.planned_through IS
	'Planning position: every resident with an id up to this one has been considered (those in the audience are in a batch). NULL before the first chunk. Written with each chunk of batches in one transaction.';


-- Sending: the LINE user ids of a batch's residents who are still active,
-- read when the batch is claimed.  Probing residents once per id (a nested
-- loop, what the planner picks for an unnest it guesses at 10 rows) cost
-- ~2 us per resident, as much as planning; for a dense batch (ids close
-- together, as for everyone or a broad segment) one range scan of a
-- covering index merged with the sorted ids reads a few index pages
-- instead, without touching the heap.  The pusher calls this for a batch
-- whose id range is less than twice its size, and probes the index for a
-- sparse one (a tenth of the residents spread over all ids).
CREATE INDEX residents_active_uid_idx ON residents (id) INCLUDE (line_user_id)
	WHERE status = 'active';

CREATE FUNCTION batch_line_user_ids(ids bigint[], lo bigint, hi bigint) RETURNS text
LANGUAGE sql STABLE SET enable_nestloop = off AS $$
	SELECT string_agg(r.line_user_id, ',')
	  FROM unnest(ids) AS u(id)
	  JOIN residents r ON r.id = u.id
	 WHERE r.id BETWEEN lo AND hi AND r.status = 'active'
$$;
COMMENT ON FUNCTION batch_line_user_ids(bigint[], bigint, bigint) IS
	'The pusher''s claim of a dense batch: comma-separated LINE user ids of the still-active residents among ids (all within lo..hi), by one range scan.';

GRANT EXECUTE ON FUNCTION target_driver_sql(jsonb, integer) TO hotline_pusher;
GRANT EXECUTE ON FUNCTION batch_line_user_ids(bigint[], bigint, bigint) TO hotline_pusher;
