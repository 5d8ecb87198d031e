// The 受信設定 page in a real browser: Debian's Chromium driven by
// playwright-core (npm, package-lock.json), against a real hotline-webhook,
// PostgreSQL and linesim started by tests/integration/liff_browser.sh.
//
// Why window.liff is stubbed: the real LIFF SDK's liff.init() talks to
// LINE's servers (api.line.me, the LINE app), which a test must not and
// cannot reach.  So page.addInitScript() installs a small window.liff whose
// getIDToken() returns a REAL ID token that linesim issued for the
// resident; the page sends it as it would in LINE, and hotline-webhook still
// verifies it with linesim's /oauth2/v2.1/verify.  Only the SDK's own
// plumbing is replaced; authentication is exercised end to end.  The real
// SDK bundle (/liff/sdk.js) still loads under the page's CSP, and one check
// opens the page with it alone (no network beyond loopback) to see that it
// runs and that the page explains the failure.
//
// Prints one line per check: "ok NAME" or "not ok NAME" followed by
// "# detail" lines; liff_browser.sh turns them into TAP.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';

const env = (name) => {
	const v = process.env[name];
	if (!v) throw new Error(`${name} is not set`);
	return v;
};
const BASE = env('LIFF_URL'); // http://127.0.0.1:PORT (hotline-webhook)
const SIM = env('LINESIM_URL');
const USER = env('USER_ID'); // an active friend
const BLOCKED = env('BLOCKED_ID'); // a resident who blocked the account
const DB = env('DB');
const ART = env('ARTIFACTS');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

let failed = 0;
function check(name, cond, detail) {
	if (cond) {
		console.log(`ok ${name}`);
	} else {
		failed++;
		console.log(`not ok ${name}`);
		if (detail !== undefined) {
			for (const line of String(typeof detail === 'string' ? detail : JSON.stringify(detail)).split('\n'))
				console.log(`# ${line}`);
		}
	}
}

function sql(query) {
	return execFileSync('psql', ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', DB, '-c', query], {
		encoding: 'utf8',
	}).trim();
}

async function idToken(user) {
	const res = await fetch(`${SIM}/sim/users/${user}/liff-token`, { method: 'POST' });
	const j = await res.json();
	if (!j.idToken) throw new Error('linesim issued no ID token');
	return j.idToken;
}

// The stub LIFF: the parts of the SDK app.js uses.  A setter that ignores
// assignments keeps the real SDK (sdk.js sets window.liff) from replacing it.
function stubLiff(token) {
	const liff = {
		init: async () => {},
		isLoggedIn: () => true,
		getIDToken: () => token,
		login: () => {
			throw new Error('login must not be needed in this test');
		},
	};
	Object.defineProperty(window, 'liff', { configurable: false, get: () => liff, set: () => {} });
}

// WCAG contrast ratio of an element's text against its (first opaque) background.
function contrastOf(selector) {
	const parse = (c) => (c.match(/[\d.]+/g) || []).map(Number);
	const lum = ([r, g, b]) => {
		const f = (v) => {
			v /= 255;
			return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
		};
		return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
	};
	const el = document.querySelector(selector);
	if (!el) return null;
	const fg = parse(getComputedStyle(el).color);
	let n = el;
	let bg = null;
	while (n && n.nodeType === 1) {
		const c = parse(getComputedStyle(n).backgroundColor);
		if (c.length >= 3 && (c.length < 4 || c[3] === 1)) {
			bg = c;
			break;
		}
		n = n.parentElement;
	}
	bg = bg || [255, 255, 255];
	const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
	return (a + 0.05) / (b + 0.05);
}

mkdirSync(ART, { recursive: true });
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
try {
	const token = await idToken(USER);
	const context = await browser.newContext({ viewport: { width: 375, height: 667 }, locale: 'ja-JP' });
	const page = await context.newPage();
	const urls = [];
	const cspErrors = [];
	page.on('request', (r) => urls.push(r.url()));
	page.on('console', (m) => {
		if (/Content.Security.Policy/i.test(m.text())) cspErrors.push(m.text());
	});
	// Loopback only: nothing may reach a CDN or LINE.
	await page.route('**/*', (route) =>
		/^https?:\/\/(127\.0\.0\.1|localhost)(:\d+)?\//.test(route.request().url()) ? route.continue() : route.abort(),
	);
	await page.addInitScript(stubLiff, token);

	// --- open ---------------------------------------------------------------
	await page.goto(`${BASE}/liff/`);
	await page.locator('#form').waitFor({ state: 'visible', timeout: 10000 });
	const legends = await page.locator('legend').allTextContents();
	check('the page lists every item from the database', legends.join(',') === '住んでいる地域,年代,性別,配信希望のカテゴリー,子どもの生年月日', legends);
	check('it explains that no region/category means everything',
		(await page.locator('#note-unset').textContent()).includes('すべての情報'));
	check('regions are check boxes', (await page.locator('#item-region input[type=checkbox]').count()) === 7);
	check('age band is radio buttons (with "not set")', (await page.locator('#item-age_band input[type=radio]').count()) === 8);

	// --- accessibility ----------------------------------------------------------
	const unlabelled = await page.$$eval('input, button', (els) =>
		els.filter((e) => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.textContent.trim()).map((e) => e.outerHTML),
	);
	check('every control has a label', unlabelled.length === 0, unlabelled);
	const noLegend = await page.$$eval('fieldset', (fs) => fs.filter((f) => !f.querySelector('legend')).length);
	check('every group is a fieldset with a legend', noLegend === 0);
	const small = await page.$$eval('.option, button, input[type=date]', (els) =>
		els.map((e) => [e.className || e.type, e.getBoundingClientRect().height, e.getBoundingClientRect().width])
			.filter(([, h, w]) => h < 44 || w < 44),
	);
	check('tap targets are at least 44 px', small.length === 0, small);
	const ratios = {};
	for (const sel of ['body', 'legend', '.desc', '.note', 'button.primary', '.option span', '.bar h1', '.privacy'])
		ratios[sel] = await page.evaluate(contrastOf, sel);
	check('text contrast is AA (4.5:1)', Object.values(ratios).every((r) => r !== null && r >= 4.5), ratios);
	await page.keyboard.press('Tab');
	const outline = await page.evaluate(() => {
		const s = getComputedStyle(document.activeElement);
		return [document.activeElement.tagName, s.outlineStyle, s.outlineWidth];
	});
	check('keyboard focus is visible', outline[1] !== 'none' && parseFloat(outline[2]) >= 2, outline);

	// --- change settings ----------------------------------------------------------
	await page.getByLabel('倉渕').check();
	await page.getByLabel('榛名').check();
	await page.getByLabel('30代').check();
	await page.getByLabel('防災').check();
	await page.getByLabel('子育て支援').check();
	await page.getByRole('button', { name: /子どもの生年月日を追加/ }).click();
	await page.getByLabel('子どもの生年月日（1人目）', { exact: true }).fill('2020-05-05');
	await page.getByRole('button', { name: /子どもの生年月日を追加/ }).click();
	await page.getByLabel('子どもの生年月日（2人目）', { exact: true }).fill('2017-11-03');
	await page.getByRole('button', { name: '保存する' }).click();
	const status = page.locator('#status');
	await status.filter({ hasText: '保存しました' }).waitFor({ timeout: 10000 });
	check('the page says it saved', (await status.getAttribute('role')) === 'status');
	check('the status message has focus', await status.evaluate((e) => e === document.activeElement));
	const rid = sql(`SELECT id FROM residents WHERE line_user_id = '${USER}'`);
	const choices = sql(`SELECT string_agg(i.key || '=' || v.key, ',' ORDER BY i.position, v.position)
		FROM resident_choices c JOIN segment_values v ON v.id = c.value_id JOIN segment_items i ON i.id = c.item_id
		WHERE c.resident_id = ${rid}`);
	check('the database has the choices', choices === 'region=kurabuchi,region=haruna,age_band=thirties,category=disaster,category=childcare', choices);
	const dates = sql(`SELECT string_agg(value::text, ',' ORDER BY value) FROM resident_dates WHERE resident_id = ${rid}`);
	check('the database has the birthdates', dates === '2017-11-03,2020-05-05', dates);
	check('settings_saved_at is set', sql(`SELECT settings_saved_at IS NOT NULL FROM residents WHERE id = ${rid}`) === 't');
	await page.screenshot({ path: `${ART}/liff-375.png`, fullPage: true });

	// --- change again: remove a child, unselect a region -----------------------------
	await page.reload();
	await page.locator('#form').waitFor({ state: 'visible' });
	check('a reload shows the saved state', (await page.getByLabel('倉渕').isChecked()) && (await page.getByLabel('30代').isChecked()));
	await page.getByLabel('榛名').uncheck();
	await page.getByRole('button', { name: '子どもの生年月日（1人目）を削除' }).click();
	check('removing a birthdate renumbers the rest',
		(await page.locator('#item-child_birthdate input[type=date]').count()) === 1 &&
			(await page.getByLabel('子どもの生年月日（1人目）', { exact: true }).inputValue()) === '2020-05-05');
	await page.getByRole('button', { name: '保存する' }).click();
	await status.filter({ hasText: '保存しました' }).waitFor({ timeout: 10000 });
	check('the second save is in the database',
		sql(`SELECT (SELECT string_agg(v.key, ',' ORDER BY v.position) FROM resident_choices c JOIN segment_values v ON v.id = c.value_id
			JOIN segment_items i ON i.id = c.item_id WHERE c.resident_id = ${rid} AND i.key = 'region')
			|| '/' || (SELECT string_agg(value::text, ',') FROM resident_dates WHERE resident_id = ${rid})`) === 'kurabuchi/2020-05-05');

	// --- a refused save -----------------------------------------------------------------
	await page.getByLabel('子どもの生年月日（1人目）', { exact: true }).fill('2099-01-01');
	await page.getByRole('button', { name: '保存する' }).click();
	await status.filter({ hasText: '入力内容を確認してください' }).waitFor({ timeout: 10000 });
	check('a future birthdate is refused with the reason', (await status.textContent()).includes('未来の日付'), await status.textContent());
	check('the refusal is an alert', (await status.getAttribute('role')) === 'alert');
	check('the item is marked invalid', (await page.locator('#item-child_birthdate').getAttribute('aria-invalid')) === 'true');
	check('nothing changed in the database',
		sql(`SELECT string_agg(value::text, ',') FROM resident_dates WHERE resident_id = ${rid}`) === '2020-05-05');

	// --- 320 px -------------------------------------------------------------------------
	await page.setViewportSize({ width: 320, height: 640 });
	await page.reload();
	await page.locator('#form').waitFor({ state: 'visible' });
	const sw = await page.evaluate(() => document.documentElement.scrollWidth);
	check('at 320 px nothing overflows horizontally', sw <= 320, `scrollWidth ${sw}`);
	const wide = await page.$$eval('body *', (els) =>
		els.filter((e) => e.getBoundingClientRect().right > 320.5).map((e) => e.tagName + '.' + e.className),
	);
	check('at 320 px every element fits', wide.length === 0, wide.slice(0, 10));
	await page.screenshot({ path: `${ART}/liff-320.png`, fullPage: true });

	// --- privacy and CSP ------------------------------------------------------------------
	const leaky = urls.filter((u) => u.includes(USER) || u.includes(token.slice(0, 30)));
	check('no user id or token in any URL', leaky.length === 0, leaky);
	check('no Content-Security-Policy violation', cspErrors.length === 0, cspErrors);
	check('only our own origin was requested', urls.every((u) => u.startsWith(BASE)), urls.filter((u) => !u.startsWith(BASE)));
	await context.close();

	// --- a resident who blocked the account -----------------------------------------------
	const c2 = await browser.newContext({ viewport: { width: 375, height: 667 } });
	const p2 = await c2.newPage();
	await p2.addInitScript(stubLiff, await idToken(BLOCKED));
	await p2.goto(`${BASE}/liff/`);
	await p2.locator('#status').filter({ hasText: '友だち追加してからご利用ください' }).waitFor({ timeout: 10000 });
	check('a resident who blocked the account is asked to add the friend again', await p2.locator('#form').isHidden());
	await c2.close();

	// --- the real SDK, alone --------------------------------------------------------------
	const c3 = await browser.newContext({ viewport: { width: 375, height: 667 } });
	const p3 = await c3.newPage();
	const p3csp = [];
	p3.on('console', (m) => {
		if (/Content.Security.Policy/i.test(m.text())) p3csp.push(m.text());
	});
	await p3.route('**/*', (route) =>
		/^https?:\/\/(127\.0\.0\.1|localhost)(:\d+)?\//.test(route.request().url()) ? route.continue() : route.abort(),
	);
	await p3.goto(`${BASE}/liff/`);
	const version = await p3.evaluate(() => window.liff && typeof window.liff.init === 'function' && window.liff.getVersion());
	check('the real LIFF SDK (from npm) loads from /liff/sdk.js', version === '2.31.0', version);
	await p3.locator('#status').waitFor({ state: 'visible', timeout: 15000 }).catch(() => {});
	const p3status = (await p3.locator('#status').isVisible()) ? await p3.locator('#status').textContent() : '';
	check('without LINE the page says what to do', /LINEアプリから開き直してください|通信できませんでした/.test(p3status), p3status);
	check('the SDK runs under the CSP', p3csp.length === 0, p3csp);
	await c3.close();
} catch (e) {
	failed++;
	console.log('not ok the browser test ran to its end');
	for (const line of String(e.stack || e).split('\n')) console.log(`# ${line}`);
} finally {
	await browser.close();
}
process.exit(failed ? 1 : 0);
