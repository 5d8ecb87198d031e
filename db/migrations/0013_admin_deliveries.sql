-- 0013_admin_deliveries — what hotline-admin's delivery composer and
-- history need from the database (issue 7): the 一般職員 scope rule as a
-- function and a trigger (so that no client of the hotline_admin role can
-- widen a member of staff's reach), the check of a composed target with
-- reasons in Japanese, the Japanese summary of a target for the history,
-- and the JSON form of a delivery the API answers with.

-- The scope rule (docs/api.md, "Deliveries"):
--   * 管理者 may target anything;
--   * a 一般職員 may not send to everyone nor to particular residents, and
--     their target must be {"all": [...]} holding at least one
--     {"item": I, "any": [V, ...]} whose values are all in their
--     staff_segment_scope; the other conditions of the "all" can only
--     narrow it (an AND), so they are free.
-- NULL when allowed, else why not, in Japanese for staff (naming the
-- values they may use).  A disabled or unknown account may target nothing.
CREATE FUNCTION staff_target_allowed(p_staff bigint, p_target jsonb, p_everyone boolean DEFAULT false)
RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
	s staff%ROWTYPE;
	scope text;
	e jsonb;
BEGIN
	SELECT * INTO s FROM staff WHERE id = p_staff;
	IF NOT FOUND OR s.disabled_at IS NOT NULL THEN
		RETURN '配信できる職員アカウントではありません。';
	END IF;
	IF s.role = 'admin' THEN
		RETURN NULL;
	END IF;
	SELECT string_agg(x.label, '、' ORDER BY x.ipos, x.iid) INTO scope
	  FROM (SELECT i.position AS ipos, i.id AS iid,
		       i.label || ': ' || string_agg(v.label, '・' ORDER BY v.position, v.id) AS label
		  FROM staff_segment_scope sc
		  JOIN segment_values v ON v.id = sc.value_id
		  JOIN segment_items i ON i.id = v.item_id
		 WHERE sc.staff_id = p_staff
		 GROUP BY i.position, i.id, i.label) AS x;
	IF scope IS NULL THEN
		RETURN '配信できるセグメントが割り当てられていません。管理者に依頼してください。';
	END IF;
	IF p_everyone THEN
		RETURN '全員への配信は管理者だけが行えます。指定できるのは次の値です: ' || scope;
	END IF;
	IF p_target IS NULL OR jsonb_typeof(p_target) <> 'object' THEN
		RETURN '配信先を指定してください。指定できるのは次の値です: ' || scope;
	END IF;
	IF jsonb_path_exists(p_target, 'strict $.** ? (@.type() == "object" && exists(@.residents))') THEN
		RETURN '住民を個別に指定する配信は管理者だけが行えます。';
	END IF;
	IF (SELECT array_agg(k) FROM jsonb_object_keys(p_target) AS k) = ARRAY['all']
	   AND jsonb_typeof(p_target -> 'all') = 'array' THEN
		FOR e IN SELECT value FROM jsonb_array_elements(p_target -> 'all') LOOP
			IF jsonb_typeof(e) = 'object'
			   AND (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(e) AS k) = ARRAY['any', 'item']
			   AND jsonb_typeof(e -> 'item') = 'string'
			   AND jsonb_typeof(e -> 'any') = 'array'
			   AND jsonb_array_length(e -> 'any') > 0
			   AND NOT EXISTS (
				SELECT 1 FROM jsonb_array_elements(e -> 'any') AS x
				 WHERE jsonb_typeof(x) <> 'string'
				    OR NOT EXISTS (
					SELECT 1 FROM staff_segment_scope sc
					  JOIN segment_values v ON v.id = sc.value_id
					  JOIN segment_items i ON i.id = v.item_id
					 WHERE sc.staff_id = p_staff AND i.key = e ->> 'item'
					   AND v.key = x #>> '{}')) THEN
				RETURN NULL;
			END IF;
		END LOOP;
	END IF;
	RETURN '担当外の配信先が含まれています。指定できるのは次の値です: ' || scope;
END
$$;
COMMENT ON FUNCTION staff_target_allowed(bigint, jsonb, boolean) IS
	'The scope rule of a staff delivery: NULL when staff account p_staff may send to (p_everyone, p_target), else why not (Japanese, for staff). 管理者 may target anything; a 一般職員 only {"all": [...]} with one {"item","any"} wholly inside staff_segment_scope.';

-- The rule enforced on every staff delivery that goes to residents, whatever
-- the client: test deliveries go to test receivers only and are not checked.
-- SECURITY DEFINER: it fires for any role that writes such a row, and only
-- hotline_admin may call staff_target_allowed.  Other roles (ingest,
-- webhook) may not write staff deliveries at all: row-level security,
-- checked after BEFORE triggers, refuses them with its own message.
CREATE FUNCTION deliveries_check_scope() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public AS $$
DECLARE
	why text;
BEGIN
	IF NOT pg_has_role(session_user, 'hotline_admin', 'USAGE') THEN
		RETURN NEW;
	END IF;
	why := staff_target_allowed(NEW.created_by, NEW.target, NEW.everyone);
	IF why IS NOT NULL THEN
		RAISE EXCEPTION '%', why USING ERRCODE = 'insufficient_privilege';
	END IF;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION deliveries_check_scope() IS
	'BEFORE INSERT/UPDATE trigger on staff deliveries: refuses an audience the author may not target (staff_target_allowed).';
CREATE TRIGGER deliveries_check_scope BEFORE INSERT OR UPDATE OF everyone, target, created_by, is_test
	ON deliveries FOR EACH ROW WHEN (NEW.source = 'staff' AND NOT NEW.is_test)
	EXECUTE FUNCTION deliveries_check_scope();

-- What is wrong with a composed target, in Japanese for staff, or NULL when
-- target_sql() accepts it.  Unknown items and values are named; any other
-- refusal of target_sql() is passed on with its (English) detail.
CREATE FUNCTION target_problem(p_target jsonb) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
	e jsonb;
	it segment_items%ROWTYPE;
	k text;
BEGIN
	IF p_target IS NULL OR jsonb_typeof(p_target) <> 'object' THEN
		RETURN '配信先の条件はオブジェクトで指定してください。';
	END IF;
	FOR e IN SELECT x FROM jsonb_path_query(p_target, 'strict $.** ? (@.type() == "object" && exists(@.item))') AS x LOOP
		IF jsonb_typeof(e -> 'item') <> 'string' THEN
			RETURN '配信先の条件の "item" にはセグメント項目のキーを指定してください。';
		END IF;
		SELECT * INTO it FROM segment_items WHERE key = e ->> 'item';
		IF NOT FOUND THEN
			RETURN format('セグメント項目「%s」はありません。', e ->> 'item');
		END IF;
		IF jsonb_typeof(e -> 'any') = 'array' THEN
			SELECT x INTO k FROM jsonb_array_elements_text(
					CASE WHEN NOT EXISTS (SELECT 1 FROM jsonb_array_elements(e -> 'any') AS y
							      WHERE jsonb_typeof(y) <> 'string')
					     THEN e -> 'any' ELSE '[]' END) AS x
			 WHERE NOT EXISTS (SELECT 1 FROM segment_values v WHERE v.item_id = it.id AND v.key = x)
			 LIMIT 1;
			IF FOUND THEN
				RETURN format('セグメント項目「%s」に値「%s」はありません。', it.label, k);
			END IF;
		END IF;
	END LOOP;
	BEGIN
		PERFORM target_sql(p_target);
	EXCEPTION WHEN invalid_parameter_value THEN
		RETURN '配信先の条件の形式が正しくありません（' || SQLERRM || '）。';
	END;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION target_problem(jsonb) IS
	'Why a composed target filter is refused (Japanese, naming an unknown item or value), or NULL when target_sql() accepts it.';

-- The live count of the composer: active residents a draft's audience has
-- today in Japan (everyone, the testers of a test, or the target).
CREATE FUNCTION delivery_draft_count(p_everyone boolean, p_target jsonb, p_test boolean DEFAULT false)
RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
DECLARE
	n bigint;
BEGIN
	IF p_test THEN
		SELECT count(*) INTO n FROM residents WHERE status = 'active' AND is_tester;
	ELSIF p_everyone THEN
		SELECT count(*) INTO n FROM residents WHERE status = 'active';
	ELSE
		n := target_count(p_target, (now() AT TIME ZONE 'Asia/Tokyo')::date);
	END IF;
	RETURN n;
END
$$;
COMMENT ON FUNCTION delivery_draft_count(boolean, jsonb, boolean) IS
	'Active residents a draft reaches now: the testers of a test, everyone, or target_count() of its target on today''s date in Japan.';

-- A target in words for the history: 「住んでいる地域: 倉渕・榛名 かつ
-- 配信希望のカテゴリー: 防災」, from the current item and value labels.
-- Never raises: what it does not understand it shows as JSON.
CREATE FUNCTION target_label(t jsonb, depth integer DEFAULT 0) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
	keys text[];
	parts text[];
	e jsonb;
	it segment_items%ROWTYPE;
	lbl text;
	k text;
BEGIN
	IF t IS NULL THEN
		RETURN NULL;
	END IF;
	IF depth > 16 OR jsonb_typeof(t) <> 'object' THEN
		RETURN t::text;
	END IF;
	SELECT array_agg(x ORDER BY x) INTO keys FROM jsonb_object_keys(t) AS x;
	IF (keys = ARRAY['all'] OR keys = ARRAY['any']) AND jsonb_typeof(t -> keys[1]) = 'array' THEN
		k := keys[1];
		IF jsonb_array_length(t -> k) = 0 THEN
			RETURN CASE k WHEN 'all' THEN '全員' ELSE '該当なし' END;
		END IF;
		FOR e IN SELECT value FROM jsonb_array_elements(t -> k) LOOP
			lbl := target_label(e, depth + 1);
			IF jsonb_typeof(e) = 'object' AND (e ? 'all' OR e ? 'any') AND NOT e ? 'item'
			   AND jsonb_array_length(CASE WHEN jsonb_typeof(e -> 'all') = 'array' THEN e -> 'all'
						       WHEN jsonb_typeof(e -> 'any') = 'array' THEN e -> 'any'
						       ELSE '[]' END) > 1 THEN
				lbl := '（' || lbl || '）';
			END IF;
			parts := parts || lbl;
		END LOOP;
		RETURN array_to_string(parts, CASE k WHEN 'all' THEN ' かつ ' ELSE ' または ' END);
	ELSIF keys = ARRAY['not'] THEN
		RETURN '（' || target_label(t -> 'not', depth + 1) || '）以外';
	ELSIF keys = ARRAY['residents'] AND jsonb_typeof(t -> 'residents') = 'array' THEN
		RETURN '指定した住民 ' || jsonb_array_length(t -> 'residents') || '人';
	ELSIF (keys = ARRAY['any', 'item'] OR keys = ARRAY['age_between', 'item'])
	      AND jsonb_typeof(t -> 'item') = 'string' THEN
		SELECT * INTO it FROM segment_items WHERE key = t ->> 'item';
		IF NOT FOUND THEN
			RETURN t::text;
		END IF;
		IF keys[1] = 'age_between' THEN
			RETURN it.label || ': ' || coalesce(t -> 'age_between' ->> 0, '?') || '〜'
				|| coalesce(t -> 'age_between' ->> 1, '?') || '歳';
		END IF;
		IF jsonb_typeof(t -> 'any') <> 'array' THEN
			RETURN t::text;
		END IF;
		SELECT string_agg(coalesce(v.label, x.k), '・' ORDER BY x.n) INTO lbl
		  FROM jsonb_array_elements_text(CASE WHEN NOT EXISTS (
				SELECT 1 FROM jsonb_array_elements(t -> 'any') AS y WHERE jsonb_typeof(y) <> 'string')
				THEN t -> 'any' ELSE '[]' END) WITH ORDINALITY AS x(k, n)
		  LEFT JOIN segment_values v ON v.item_id = it.id AND v.key = x.k;
		RETURN it.label || ': ' || coalesce(lbl, 'なし');
	END IF;
	RETURN t::text;
END
$$;
COMMENT ON FUNCTION target_label(jsonb, integer) IS
	'A target filter in Japanese for staff (item label: value labels, かつ/または/以外), from the current labels; never raises.';

-- ISO 8601 in Japan time, as the API answers (Japan has no daylight saving).
CREATE FUNCTION iso_jst(t timestamptz) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT to_char(t AT TIME ZONE 'Asia/Tokyo', 'YYYY-MM-DD"T"HH24:MI:SS"+09:00"')
$$;
COMMENT ON FUNCTION iso_jst(timestamptz) IS 'The time as ISO 8601 with +09:00, as hotline-admin answers.';

-- A delivery as hotline-admin's history shows it (docs/api.md), with its
-- messages when asked.
CREATE FUNCTION delivery_json(d deliveries, with_messages boolean DEFAULT false) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
		'id', d.id, 'source', d.source, 'title', d.title, 'status', d.status,
		'everyone', d.everyone, 'target', d.target,
		'target_label', CASE WHEN d.is_test THEN 'テスト受信者'
				     WHEN d.everyone THEN '全員'
				     ELSE target_label(d.target) END,
		'is_test', d.is_test, 'send_at', iso_jst(d.send_at),
		'created_at', iso_jst(d.created_at), 'started_at', iso_jst(d.started_at),
		'finished_at', iso_jst(d.finished_at),
		'created_by', (SELECT jsonb_build_object('id', s.id, 'display_name', s.display_name)
				 FROM staff s WHERE s.id = d.created_by),
		'approved_by', (SELECT jsonb_build_object('id', s.id, 'display_name', s.display_name)
				  FROM staff s WHERE s.id = d.approved_by),
		'approved_at', iso_jst(d.approved_at),
		'cancelled_by', (SELECT jsonb_build_object('id', s.id, 'display_name', s.display_name)
				   FROM staff s WHERE s.id = d.cancelled_by),
		'cancelled_at', iso_jst(d.cancelled_at),
		'targeted', d.targeted, 'accepted', d.accepted, 'failed', d.failed,
		'hold_reason', d.hold_reason, 'error', d.error,
		'mail_id', (SELECT min(m.id) FROM mails m WHERE m.delivery_id = d.id))
	       || CASE WHEN with_messages THEN jsonb_build_object('messages', d.messages)
		       ELSE '{}'::jsonb END
$$;
COMMENT ON FUNCTION delivery_json(deliveries, boolean) IS
	'A delivery as hotline-admin answers it: figures, status, source, Japanese target summary, authors; messages when with_messages.';

-- What is wrong with a send time staff asked for, in Japanese, or NULL:
-- ISO 8601 with an offset (a time without one would silently depend on the
-- server's zone), in the future, and at most a year ahead (a typo in the
-- year must not park a message for a decade).
CREATE FUNCTION delivery_send_at_problem(p text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
	t timestamptz;
BEGIN
	IF p IS NULL OR p !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)$' THEN
		RETURN '配信日時は 2026-11-26T09:00:00+09:00 のように、時差を付けた ISO 8601 形式で指定してください。';
	END IF;
	BEGIN
		t := p::timestamptz;
	EXCEPTION WHEN data_exception THEN
		RETURN '配信日時が正しくありません（存在しない日付か時刻です）。';
	END;
	IF t <= now() THEN
		RETURN '配信日時が過去になっています。これから先の日時を指定してください。';
	END IF;
	IF t > now() + interval '1 year' THEN
		RETURN '配信日時は1年以内で指定してください。';
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION delivery_send_at_problem(text) IS
	'Why a requested send time is refused (Japanese): not ISO 8601 with an offset, not a real time, in the past, or more than a year ahead; NULL when fine.';

GRANT EXECUTE ON FUNCTION staff_target_allowed(bigint, jsonb, boolean), target_problem(jsonb),
	delivery_draft_count(boolean, jsonb, boolean), target_label(jsonb, integer),
	iso_jst(timestamptz), delivery_json(deliveries, boolean), delivery_send_at_problem(text)
	TO hotline_admin;
