-- Demo residents for `make run`: 60 friends of the account with varied
-- settings, 2 staff test receivers and 3 who blocked the account, so the
-- segment counts and deliveries of the demo have something to show.
-- Idempotent: loading it twice changes nothing.  Never loaded in production.

INSERT INTO residents (line_user_id, status, blocked_at, is_tester, settings_saved_at)
SELECT 'U' || md5('hotline-demo-resident-' || n),
       CASE WHEN n % 20 = 7 THEN 'blocked' ELSE 'active' END,
       CASE WHEN n % 20 = 7 THEN now() - interval '3 days' END,
       n IN (1, 2),
       CASE WHEN n % 4 = 0 THEN NULL ELSE now() - (n || ' hours')::interval END
  FROM generate_series(1, 60) AS n
ON CONFLICT (line_user_id) DO NOTHING;

-- Residents whose settings were saved choose: one or two regions, an age
-- band, a gender and a few categories.  The others (n % 4 = 0) chose
-- nothing and so receive everything.
WITH demo AS (
	SELECT r.id, n
	  FROM generate_series(1, 60) AS n
	  JOIN residents r ON r.line_user_id = 'U' || md5('hotline-demo-resident-' || n)
	 WHERE n % 4 <> 0
), picks AS (
	SELECT d.id, v.id AS value_id
	  FROM demo d
	  JOIN segment_items i ON true
	  JOIN segment_values v ON v.item_id = i.id
	 WHERE (i.key = 'region'   AND (v.position / 10 = d.n % 7 + 1 OR v.position / 10 = (d.n * 3) % 7 + 1))
	    OR (i.key = 'age_band' AND v.position / 10 = d.n % 7 + 1)
	    OR (i.key = 'gender'   AND v.position / 10 = (d.n / 4) % 4 + 1)
	    OR (i.key = 'category' AND (v.position / 10 IN (d.n % 10 + 1, (d.n + 3) % 10 + 1, 3)))
)
INSERT INTO resident_choices (resident_id, value_id)
SELECT id, value_id FROM picks
ON CONFLICT DO NOTHING;

-- Some parents register their children's birthdates (several per family).
INSERT INTO resident_dates (resident_id, item_id, value)
SELECT r.id, i.id, date '2026-04-01' - ((n * 97 + k * 400) % 5000)
  FROM generate_series(1, 60) AS n
  JOIN residents r ON r.line_user_id = 'U' || md5('hotline-demo-resident-' || n)
  JOIN segment_items i ON i.key = 'child_birthdate'
  CROSS JOIN generate_series(1, 2) AS k
 WHERE n % 5 = 1 AND (k = 1 OR n % 10 = 1)
   AND NOT EXISTS (SELECT 1 FROM resident_dates x WHERE x.resident_id = r.id);
