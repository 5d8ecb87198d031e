-- Demo mail rules for `make run`: the rule set of issue 4 for the layout of
-- ../shared/samples (the same rules tests/unit/test_rules.c runs the samples
-- through):
--
--   10 sender_allow  only the samples' sender, anshin-hot@city.takasaki.example.jp
--                    (the whole address must match, case-insensitively)
--   20 strip         the footer between the two ━━━ lines (送信専用, 配信停止)
--   30 keyword       【種別】… → category (防犯 → crime_prevention, …)
--   40 keyword       【地区】… → region (倉渕 → kurabuchi, …; 全域 = everyone);
--                    several regions are separated by 、
--   50 append        the city's web site at the end of the body
--   60 fallback      hold for staff when no keyword matched
--
-- Idempotent: it does nothing once mail_rules has any row, so loading it
-- again neither doubles the rules nor undoes what staff changed in the
-- demo.  Never loaded in production.

DO $demo$
DECLARE
	r_category bigint;
	r_region   bigint;
	n          integer;
BEGIN
	IF EXISTS (SELECT 1 FROM mail_rules) THEN
		RETURN;
	END IF;

	INSERT INTO mail_rules (kind, position, name, pattern)
	VALUES ('sender_allow', 10, '安心ほっとメールの送信元',
		'anshin-hot@city\.takasaki\.example\.jp');

	INSERT INTO mail_rules (kind, position, name, part, pattern)
	VALUES ('strip', 20, 'フッター（送信専用・配信停止の案内）', 'body',
		'━{10,}\n[\s\S]*?━{10,}\n?');

	INSERT INTO mail_rules (kind, position, name, part, pattern, target_item_id)
	SELECT 'keyword', 30, '種別', 'body', '【種別】(.+)', i.id
	  FROM segment_items i WHERE i.key = 'category'
	RETURNING id INTO r_category;

	INSERT INTO mail_rules (kind, position, name, part, pattern, target_item_id)
	SELECT 'keyword', 40, '地区', 'body', '【地区】(.+)', i.id
	  FROM segment_items i WHERE i.key = 'region'
	RETURNING id INTO r_region;

	IF r_category IS NULL OR r_region IS NULL THEN
		RAISE EXCEPTION 'demo mail rules: segment items category/region are missing';
	END IF;

	-- The keywords are the values' labels in the samples; a join that
	-- finds fewer rows than listed means a key is missing: stop.
	INSERT INTO mail_rule_values (rule_id, item_id, keyword, value_id)
	SELECT r_category, v.item_id, k.keyword, v.id
	  FROM (VALUES ('防犯', 'crime_prevention'), ('交通安全', 'traffic_safety'),
		       ('防災', 'disaster'), ('火災', 'fire'), ('イベント', 'event'),
		       ('講座開催', 'course'), ('子育て支援', 'childcare'),
		       ('健康づくり', 'health'), ('広報高崎', 'koho_takasaki'),
		       ('その他', 'other')) AS k (keyword, key)
	  JOIN segment_items i ON i.key = 'category'
	  JOIN segment_values v ON v.item_id = i.id AND v.key = k.key
	 ORDER BY v.position;
	GET DIAGNOSTICS n = ROW_COUNT;
	IF n <> 10 THEN
		RAISE EXCEPTION 'demo mail rules: % of 10 category values found', n;
	END IF;

	INSERT INTO mail_rule_values (rule_id, item_id, keyword, value_id)
	SELECT r_region, v.item_id, k.keyword, v.id
	  FROM (VALUES ('旧高崎', 'kyu_takasaki'), ('倉渕', 'kurabuchi'), ('榛名', 'haruna'),
		       ('新町', 'shinmachi'), ('吉井', 'yoshii'), ('群馬', 'gunma'),
		       ('箕郷', 'misato')) AS k (keyword, key)
	  JOIN segment_items i ON i.key = 'region'
	  JOIN segment_values v ON v.item_id = i.id AND v.key = k.key
	 ORDER BY v.position;
	GET DIAGNOSTICS n = ROW_COUNT;
	IF n <> 7 THEN
		RAISE EXCEPTION 'demo mail rules: % of 7 region values found', n;
	END IF;

	-- 全域: the whole city, so the region does not restrict the delivery.
	INSERT INTO mail_rule_values (rule_id, item_id, keyword, everyone)
	SELECT r_region, target_item_id, '全域', true FROM mail_rules WHERE id = r_region;

	INSERT INTO mail_rules (kind, position, name, part, text, placement)
	VALUES ('append', 50, '市のホームページ', 'body',
		E'詳しくは高崎市ホームページをご覧ください。\nhttps://www.city.takasaki.example.jp/',
		'tail');

	INSERT INTO mail_rules (kind, position, name, fallback_action)
	VALUES ('fallback', 60, 'キーワードなし', 'hold');
END
$demo$;
