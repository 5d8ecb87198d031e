// The staff UI (admin/www) in a real browser: Debian's Chromium driven by
// playwright-core, against a real hotline-admin, hotline-pusher,
// PostgreSQL and linesim started by tests/integration/admin_browser.sh.
//
// The flow a new 管理者 goes through: first sign-in with TOTP enrolment
// (the code computed from the secret the enrolment screen shows, with the
// build's tests/tools/totp_code), recovery codes, sign-out and a sign-in
// with a code; compose with a live preview; the live count following the
// target; a test send that reaches only the test receiver's simulated
// LINE; a scheduled delivery cancelled from 配信履歴 (never sent); a send
// now that reaches exactly the residents of the chosen region and shows in
// 配信履歴 with its figures.  XSS payloads typed by staff, in segment
// labels, staff names and mail subjects must show as text: no dialog, no
// script run (window.__xss stays unset), no element made from them.
// Every screen is shot at 1366×768 and 768×1024 (and at a phone's 375×812).
//
// Prints one line per check: "ok NAME" or "not ok NAME" followed by
// "# detail" lines; admin_browser.sh turns them into TAP.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';

const env = (name) => {
	const v = process.env[name];
	if (!v) throw new Error(`${name} is not set`);
	return v;
};
const BASE = env('ADMIN_URL');
const SIM = env('LINESIM_URL');
const DB = env('DB');
const ART = env('ARTIFACTS');
const TOTP = env('TOTP_CODE');
const [A, B, T] = [env('USER_A'), env('USER_B'), env('USER_T')];
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const LOGIN = 'tamura';
const PASSWORD = 'tamura-kouhou-2026';
const XSS = '<img src=x onerror=__xss=1>"><svg onload=__xss=2><script>__xss=3</script>';

let failed = 0;
function check(name, cond, detail) {
	if (cond) {
		console.log(`ok ${name}`);
	} else {
		failed++;
		console.log(`not ok ${name}`);
		if (detail !== undefined)
			for (const line of String(typeof detail === 'string' ? detail : JSON.stringify(detail)).split('\n'))
				console.log(`# ${line}`);
	}
}

function sql(query) {
	return execFileSync('psql', ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', DB, '-c', query], {
		encoding: 'utf8',
	}).trim();
}
const totp = (secret, offset = 0) => execFileSync(TOTP, [secret, String(offset)], { encoding: 'utf8' }).trim();
const inbox = async (user) => (await fetch(`${SIM}/sim/users/${user}/inbox`)).text();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Poll fn until it returns truthy (20 s at most); returns its last value.
async function until(fn, tries = 100) {
	let v;
	for (let i = 0; i < tries; i++) {
		v = await fn();
		if (v) return v;
		await sleep(200);
	}
	return v;
}

mkdirSync(ART, { recursive: true });
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
const dialogs = [];
const cspErrors = [];
const pageErrors = [];
let page;

async function shoot(name) {
	for (const [w, hgt] of [
		[1366, 768],
		[768, 1024],
		[375, 812],
	]) {
		await page.setViewportSize({ width: w, height: hgt });
		await page.evaluate(() => window.scrollTo(0, 0));
		await sleep(150);
		await page.screenshot({ path: `${ART}/admin-${name}-${w}.png`, fullPage: false });
	}
	await page.setViewportSize({ width: 1366, height: 768 });
}

async function go(screen) {
	await page.goto(`${BASE}/#/${screen}`);
	await page.waitForSelector(`#nav a[data-path="${screen}"][aria-current="page"]`, { timeout: 10000 });
	await page.waitForLoadState('networkidle');
}

// No payload became markup, no script ran, no dialog opened.
async function inert(where) {
	const r = await page.evaluate(() => ({
		flag: window.__xss,
		imgs: document.querySelectorAll('img[src="x"], img[onerror]').length,
		svgs: [...document.querySelectorAll('svg')].filter((s) => s.hasAttribute('onload')).length,
		scripts: [...document.querySelectorAll('script')].filter((s) => !s.src).length,
	}));
	check(`${where}: the payloads are inert (no script ran, no element made, no dialog)`,
		r.flag === undefined && r.imgs === 0 && r.svgs === 0 && r.scripts === 0 && dialogs.length === 0,
		{ ...r, dialogs });
}

try {
	const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'ja-JP', timezoneId: 'Asia/Tokyo', acceptDownloads: true });
	page = await context.newPage();
	page.on('dialog', (d) => {
		dialogs.push(d.message());
		d.dismiss().catch(() => {});
	});
	page.on('console', (m) => {
		if (/Content.Security.Policy/i.test(m.text())) cspErrors.push(m.text());
	});
	page.on('pageerror', (e) => pageErrors.push(String(e)));
	// Loopback only: nothing may come from a CDN.
	const outside = [];
	await page.route('**/*', (route) => {
		const u = route.request().url();
		if (/^https?:\/\/(127\.0\.0\.1|localhost)(:\d+)?\//.test(u)) return route.continue();
		outside.push(u);
		return route.abort();
	});

	// --- sign-in: password, enrolment, recovery codes --------------------------
	await page.goto(`${BASE}/`);
	await page.waitForSelector('input[name="login"]');
	check('the sign-in screen asks for the login and password', (await page.textContent('h1')) === 'ログイン');
	check('... with no message about an expired session', (await page.textContent('#toast')) === '', await page.textContent('#toast'));
	await shoot('login');
	await page.fill('input[name="login"]', LOGIN);
	await page.fill('input[name="password"]', 'wrong-password-1234');
	await page.click('button[type="submit"]');
	const err = await page.waitForSelector('.notice.error');
	check('a wrong password shows the API\'s Japanese message', /ログイン名またはパスワード|正しくありません/.test(await err.textContent()), await err.textContent());
	await page.fill('input[name="password"]', PASSWORD);
	await page.click('button[type="submit"]');
	await page.waitForSelector('[data-test="totp-secret"]');
	check('first sign-in: the enrolment screen shows a QR code', (await page.locator('svg.qr path').count()) === 1);
	const secret = (await page.textContent('[data-test="totp-secret"]')).replace(/\s+/g, '');
	check('... and the secret for typing', /^[A-Z2-7]{16,}$/.test(secret), secret);
	await shoot('enrol');
	await page.fill('input[name="code"]', totp(secret));
	await page.click('button[type="submit"]');
	await page.waitForSelector('[data-test="recovery-codes"]');
	const codes = await page.locator('[data-test="recovery-codes"] li').allTextContents();
	check('ten recovery codes are shown once', codes.length === 10 && codes.every((c) => /^[A-Z2-7]{4}(-[A-Z2-7]{4}){3}$/.test(c)), codes);
	await page.check('#codes-saved');
	await page.click('text=控えました。管理画面へ進む');
	await page.waitForSelector('#nav a[data-path="compose"][aria-current="page"]');
	check('after enrolment the composer opens, with the 管理者 menu', (await page.locator('#nav a').count()) === 7);

	await page.click('#logout');
	await page.waitForSelector('input[name="login"]');
	await page.fill('input[name="login"]', LOGIN);
	await page.fill('input[name="password"]', PASSWORD);
	await page.click('button[type="submit"]');
	await page.waitForSelector('input[name="code"]');
	await page.fill('input[name="code"]', totp(secret, 1));
	await page.click('button[type="submit"]');
	await page.waitForSelector('#nav a[data-path="compose"][aria-current="page"]');
	check('a later sign-in takes a TOTP code', (await page.textContent('#who-name')).includes(LOGIN));

	// --- compose: preview and live count -------------------------------------------
	await go('compose');
	await page.waitForSelector('[data-test="cond-item"]');
	const title = `防犯のお知らせ TESTSEND ${XSS}`;
	await page.fill('[data-test="title"]', title);
	await page.fill('[data-test="body"]', `倉渕地区で不審者の情報がありました。${XSS}`);
	await page.check('#style-card');
	const bubble = await until(async () => (await page.locator('[data-test="preview"] .fx-bubble').count()) > 0);
	check('the preview shows a LINE card built by the server', bubble);
	const shown = await page.locator('[data-test="preview"]').textContent();
	check('... with the title and body as text, payloads included', shown.includes('TESTSEND <img src=x onerror=__xss=1>') && shown.includes('<script>__xss=3</script>'), shown);

	await page.selectOption('[data-test="cond-item"]', 'region');
	await page.check('[data-test="condition"] input[data-key="kurabuchi"]');
	const count1 = await until(async () => page.getAttribute('[data-test="count"]', 'data-count').then((c) => (c === '1' ? c : null)));
	check('the live count for 倉渕 is 1', count1 === '1', await page.textContent('[data-test="count"]'));
	await page.check('[data-test="condition"] input[data-key="haruna"]');
	const count3 = await until(async () => page.getAttribute('[data-test="count"]', 'data-count').then((c) => (c === '3' ? c : null)));
	check('... and 3 with 榛名 added (OR within an item)', count3 === '3', await page.textContent('[data-test="count"]'));
	await page.uncheck('[data-test="condition"] input[data-key="haruna"]');
	await until(async () => (await page.getAttribute('[data-test="count"]', 'data-count')) === '1');
	await inert('composer');
	await shoot('compose');

	// --- a refused field: the API's message, and the field marked -------------------
	await page.fill('[data-test="link-url"]', 'http://www.city.takasaki.example.jp/');
	await page.click('[data-test="send-test"]');
	await page.waitForSelector('dialog[open]');
	await page.click('[data-test="confirm-ok"]');
	const refused = await (await page.waitForSelector('[data-test="result"] .notice.error')).textContent();
	check('a link that is not https is refused with the API\'s Japanese message, the field marked',
		/[ぁ-んァ-ン一-龥]/.test(refused) && (await page.getAttribute('[data-test="link-url"]', 'aria-invalid')) === 'true', refused);
	await page.fill('[data-test="link-url"]', '');

	// --- test send: only the test receiver -----------------------------------------
	await page.click('[data-test="send-test"]');
	await page.waitForSelector('dialog[open]');
	await page.click('[data-test="confirm-ok"]');
	await page.waitForSelector('[data-test="result"] .notice');
	const testRes = await page.textContent('[data-test="result"]');
	check('テスト送信 is accepted', testRes.includes('テスト送信を受け付けました'), testRes);
	const gotT = await until(async () => (await inbox(T)).includes('TESTSEND'));
	check('the test receiver\'s LINE gets the test', gotT);
	check('... and only they: not A (倉渕, the target) nor B', !(await inbox(A)).includes('TESTSEND') && !(await inbox(B)).includes('TESTSEND'));

	// --- schedule, then cancel from 配信履歴 ---------------------------------------
	await page.fill('[data-test="title"]', 'SCHEDULED 予約のお知らせ');
	// Two days from now, 09:00 Japan time (the API takes up to a year ahead).
	const day = new Date(Date.now() + 2 * 86400e3).toLocaleString('sv-SE', { timeZone: 'Asia/Tokyo' }).slice(0, 10);
	await page.fill('[data-test="send-at"]', `${day}T09:00`);
	await page.click('[data-test="send-later"]');
	await page.waitForSelector('dialog[open]');
	const dlgText = await page.textContent('dialog[open]');
	check('the schedule dialog states the count and the time', dlgText.includes('対象：1 人') && dlgText.includes(`${day} 09:00`), dlgText);
	await page.click('[data-test="confirm-ok"]');
	await page.waitForSelector('[data-test="result"] .notice.ok');
	const schedId = await page.getAttribute('[data-test="result"]', 'data-delivery-id');
	check('予約送信 makes a scheduled delivery for that day, 09:00 JST',
		sql(`SELECT status || ' ' || to_char(send_at AT TIME ZONE 'Asia/Tokyo', 'YYYY-MM-DD HH24:MI') FROM deliveries WHERE id = ${Number(schedId)}`) === `scheduled ${day} 09:00`);
	await go('history');
	const row = page.locator(`tr[data-id="${schedId}"]`);
	await row.waitFor();
	check('配信履歴 lists it as 予約済み', (await row.locator('[data-status="scheduled"]').count()) === 1);
	await row.locator('[data-test="cancel"]').click();
	await page.waitForSelector('dialog[open]');
	await page.click('[data-test="confirm-ok"]');
	const shownCancelled = await until(async () => (await page.locator(`tr[data-id="${schedId}"] [data-status="cancelled"]`).count()) === 1);
	check('予約取消 cancels it, and 配信履歴 shows 取消', shownCancelled && sql(`SELECT status FROM deliveries WHERE id = ${Number(schedId)}`) === 'cancelled',
		sql(`SELECT status FROM deliveries WHERE id = ${Number(schedId)}`));

	// --- send now ------------------------------------------------------------------
	await go('compose');
	await page.waitForSelector('[data-test="cond-item"]');
	await page.fill('[data-test="title"]', `NOWSEND 倉渕地区のお知らせ ${XSS}`);
	await page.fill('[data-test="body"]', '本日の夕方、倉渕支所で説明会を開きます。');
	await page.selectOption('[data-test="cond-item"]', 'region');
	await page.check('[data-test="condition"] input[data-key="kurabuchi"]');
	await until(async () => (await page.getAttribute('[data-test="count"]', 'data-count')) === '1');
	await page.click('[data-test="send-now"]');
	await page.waitForSelector('dialog[open]');
	check('the send-now dialog states the count', (await page.textContent('[data-test="confirm-count"]')) === '対象：1 人');
	await page.click('[data-test="confirm-ok"]');
	await page.waitForSelector('[data-test="result"] .notice.ok');
	const nowId = Number(await page.getAttribute('[data-test="result"]', 'data-delivery-id'));
	const done = await until(() => sql(`SELECT status || ' ' || targeted || ' ' || accepted FROM deliveries WHERE id = ${nowId}`) === 'done 1 1');
	check('the delivery is sent by the pusher to one resident', done, sql(`SELECT status, targeted, accepted, error FROM deliveries WHERE id = ${nowId}`));
	check('A (倉渕) has it in LINE', (await inbox(A)).includes('NOWSEND'));
	check('B (榛名) and T (榛名) do not', !(await inbox(B)).includes('NOWSEND') && !(await inbox(T)).includes('NOWSEND'));
	check('the scheduled one was never sent', !(await inbox(A)).includes('SCHEDULED') && !(await inbox(T)).includes('SCHEDULED'));
	await go('history');
	const nowRow = page.locator(`tr[data-id="${nowId}"]`);
	await nowRow.waitFor();
	const cells = await nowRow.locator('td').allTextContents();
	check('配信履歴 shows it 送信済み, from 職員, with its figures (1 / 1 / 0)',
		cells.some((c) => c.includes('送信済み')) && cells.includes('職員') && cells.filter((c) => c === '1').length >= 2 && cells.includes('0'), cells);
	check('... its title as text', (await nowRow.locator('[data-test="row-title"]').textContent()).includes('<svg onload=__xss=2>'));
	await nowRow.locator('[data-test="detail"]').click();
	await page.waitForSelector('[data-test="delivery-detail"]');
	await inert('配信履歴 and its detail');
	await page.keyboard.press('Escape');
	await shoot('history');

	// --- the other screens: segment label, staff name, mail subject ------------------
	await go('segments');
	await page.waitForSelector('[data-test="segment-item"]');
	check('セグメント管理 shows the payload label as text', (await page.textContent('[data-test="segments"]')).includes('XSS-SEG <img src=x'));
	await inert('セグメント管理');
	await shoot('segments');

	await go('staff');
	await page.waitForSelector('[data-test="staff-name"]');
	check('職員管理 shows the payload display name as text', (await page.locator('[data-test="staff-name"]').allTextContents()).some((t) => t.startsWith('XSS-STAFF <img')));
	await inert('職員管理');
	await shoot('staff');

	await go('mail');
	await page.click('[data-tab="log"]');
	await page.waitForSelector('[data-test="mail-subject"]');
	check('メール連携 shows the payload subject as text', (await page.locator('[data-test="mail-subject"]').allTextContents()).some((t) => t.startsWith('XSS-MAIL <img')));
	await page.locator('[data-test="mail-list"] tbody tr').first().locator('button').click();
	await page.waitForSelector('dialog[open] .mail-body');
	check('the mail\'s detail shows its subject as text', (await page.textContent('dialog[open] h2')).includes('XSS-MAIL <img'));
	await inert('メール連携 and a mail\'s detail');
	await page.keyboard.press('Escape');
	await shoot('mail');

	// The rules editor: a strip rule added and saved, then tried in the test panel.
	await page.click('[data-tab="rules"]');
	await page.waitForSelector('[data-test="add-rule"]');
	const rulesBefore = await page.locator('[data-test="rule"]').count();
	await page.selectOption('[data-test="add-rule"]', 'strip');
	const rule = page.locator('[data-test="rule"]').nth(rulesBefore);
	await rule.locator('[data-test="rule-name"]').fill('UIテスト 配信停止の案内');
	await rule.locator('[data-test="rule-part"]').selectOption('body');
	await rule.locator('[data-test="rule-pattern"]').fill('配信停止はこちら.*');
	await page.click('[data-test="save-rules"]');
	await page.waitForSelector('dialog[open]');
	await page.click('[data-test="confirm-ok"]');
	await page.waitForSelector('[data-test="rules-result"] .notice');
	check('ルールの編集: a new rule is saved', sql("SELECT kind || ' ' || part || ' ' || pattern FROM mail_rules WHERE name = 'UIテスト 配信停止の案内'") === 'strip body 配信停止はこちら.*',
		await page.textContent('[data-test="rules-result"]'));
	await page.click('[data-tab="test"]');
	await page.fill('[data-test="raw-mail"]', [
		'From: anshin-hot@city.takasaki.example.jp', 'To: alerts@example.jp', 'Subject: =?UTF-8?B?44CQ6Ziy54qv44CR5LiN5a+p6ICF5oOF5aCx?=',
		'Date: Wed, 25 Nov 2026 09:00:00 +0900', 'Message-ID: <ui-test@example.jp>', 'MIME-Version: 1.0',
		'Content-Type: text/plain; charset=UTF-8', 'Content-Transfer-Encoding: 8bit', '',
		'倉渕地区で不審者の情報がありました。', '配信停止はこちら https://example.jp/stop', ''].join('\r\n'));
	await page.click('[data-test="run-test"]');
	await page.waitForSelector('[data-test="test-out"] .notice');
	const tried = await page.textContent('[data-test="test-out"]');
	check('ルールの試験 shows the LINE text with the rule applied', tried.includes('倉渕地区で不審者の情報') && !tried.includes('https://example.jp/stop'), tried);

	await go('audit');
	await page.waitForSelector('[data-test="audit-list"] table');
	const auditText = await page.textContent('[data-test="audit-list"]');
	check('監査ログ lists the sign-ins and the deliveries', auditText.includes('ログイン') && /delivery\.|配信/.test(auditText), auditText.slice(0, 400));
	const [dl] = await Promise.all([page.waitForEvent('download'), page.click('[data-test="audit-csv"]')]);
	await inert('監査ログ (payloads in the details)');
	check('the CSV downloads as audit-YYYYMMDD.csv', /^audit-\d{8}\.csv$/.test(dl.suggestedFilename()), dl.suggestedFilename());
	await shoot('audit');

	// --- approval by a second staff member ---------------------------------------------
	await go('settings');
	await page.waitForSelector('[data-test="approval"]');
	await page.check('[data-test="approval"]');
	await until(() => sql("SELECT value FROM settings WHERE key = 'delivery.require_approval'") === 'true');
	check('設定: a 管理者 turns approval on', sql("SELECT value FROM settings WHERE key = 'delivery.require_approval'") === 'true');
	await shoot('settings');
	await go('compose');
	await page.waitForSelector('[data-test="cond-item"]');
	await page.fill('[data-test="title"]', 'APPROVAL 榛名地区のお知らせ');
	await page.selectOption('[data-test="cond-item"]', 'region');
	await page.check('[data-test="condition"] input[data-key="haruna"]');
	await until(async () => (await page.getAttribute('[data-test="count"]', 'data-count')) === '2');
	await page.click('[data-test="send-now"]');
	await page.waitForSelector('dialog[open]');
	await page.click('[data-test="confirm-ok"]');
	await page.waitForSelector('[data-test="result"] .notice.ok');
	const apprId = Number(await page.getAttribute('[data-test="result"]', 'data-delivery-id'));
	check('with approval on, 今すぐ送信 waits for approval', (await page.textContent('[data-test="result"]')).includes('承認待ち') &&
		sql(`SELECT status FROM deliveries WHERE id = ${apprId}`) === 'pending_approval');
	await go('history');
	await page.locator(`tr[data-id="${apprId}"]`).waitFor();
	check('... and its author cannot approve it', (await page.locator(`tr[data-id="${apprId}"] [data-test="approve"]`).count()) === 0);

	// --- a 一般職員: what the role may not use is hidden; the API's refusal is shown ---
	await page.click('#logout');
	await page.waitForSelector('input[name="login"]');
	await page.fill('input[name="login"]', 'sato');
	await page.fill('input[name="password"]', 'sato-bousai-2026!!');
	await page.click('button[type="submit"]');
	await page.waitForSelector('[data-test="totp-secret"]');
	const secret2 = (await page.textContent('[data-test="totp-secret"]')).replace(/\s+/g, '');
	await page.fill('input[name="code"]', totp(secret2));
	await page.click('button[type="submit"]');
	await page.waitForSelector('[data-test="recovery-codes"]');
	await page.check('#codes-saved');
	await page.click('text=控えました。管理画面へ進む');
	await page.waitForSelector('#nav a[data-path="compose"][aria-current="page"]');
	const menu = await page.locator('#nav a').allTextContents();
	check('a 一般職員 sees no 職員管理 and no 監査ログ', menu.length === 5 && !menu.includes('職員管理') && !menu.includes('監査ログ'), menu);
	check('... their payload name in the header as text', (await page.textContent('#who-name')).startsWith('XSS-STAFF <img'));
	await page.waitForSelector('[data-test="cond-item"]');
	check('... no 友だち全員 in the composer, AND only', (await page.locator('[data-test="target-everyone"]').count()) === 0 && (await page.isDisabled('[data-test="join"]')));
	await page.selectOption('[data-test="cond-item"]', 'region');
	const harunaLabel = await page.locator('[data-test="condition"] label', { has: page.locator('input[data-key="haruna"]') }).textContent();
	check('... 榛名 is marked 担当 (their scope)', harunaLabel.includes('担当'), harunaLabel);
	await page.fill('[data-test="title"]', 'OUTOFSCOPE');
	await page.check('[data-test="condition"] input[data-key="kurabuchi"]');
	await until(async () => (await page.getAttribute('[data-test="count"]', 'data-count')) === '1');
	await page.click('[data-test="send-now"]');
	await page.waitForSelector('dialog[open]');
	await page.click('[data-test="confirm-ok"]');
	const refusal = await (await page.waitForSelector('[data-test="result"] .notice.error')).textContent();
	check('sending outside their scope shows the API\'s Japanese refusal', /[ぁ-んァ-ン一-龥]/.test(refusal) && !refusal.includes('http_'), refusal);
	check('... and nothing was queued', sql("SELECT count(*) FROM deliveries WHERE title = 'OUTOFSCOPE'") === '0');
	await go('history');
	const apprRow = page.locator(`tr[data-id="${apprId}"]`);
	await apprRow.waitFor();
	await apprRow.locator('[data-test="approve"]').click();
	await page.waitForSelector('dialog[open]');
	await page.click('[data-test="confirm-ok"]');
	const approved = await until(() => sql(`SELECT status || ' ' || targeted FROM deliveries WHERE id = ${apprId}`) === 'done 2');
	check('a 一般職員 in scope approves it and it is sent to B and T', approved && (await until(async () => (await inbox(B)).includes('APPROVAL'))) && !(await inbox(A)).includes('APPROVAL'),
		sql(`SELECT status, targeted, approved_by FROM deliveries WHERE id = ${apprId}`));
	await inert('the 一般職員\'s screens');

	// A session that ends (timeout, account stopped) brings back the sign-in screen.
	sql('DELETE FROM staff_sessions');
	await page.click('#nav a[data-path="segments"]');
	await page.waitForSelector('input[name="login"]');
	check('an ended session brings back ログイン, saying why', (await page.textContent('#toast')).includes('有効期限'), await page.textContent('#toast'));

	await inert('the whole session');
	check('no CSP violation', cspErrors.length === 0, cspErrors);
	check('no script error', pageErrors.length === 0, pageErrors);
	check('nothing was fetched from outside loopback', outside.length === 0, outside);
	await context.close();
} catch (e) {
	failed++;
	console.log(`not ok the browser flow ran to the end`);
	for (const line of String(e && e.stack ? e.stack : e).split('\n')) console.log(`# ${line}`);
	if (page) await page.screenshot({ path: `${ART}/admin-failure.png` }).catch(() => {});
} finally {
	await browser.close();
}
process.exit(failed ? 1 : 0);
