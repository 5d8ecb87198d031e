// login.js — ログイン: password, then the authenticator's 6-digit code (or
// a recovery code); on the first sign-in, TOTP enrolment with the QR code
// the server draws (qr_svg), the secret for typing, and the ten recovery
// codes shown once.
import { ApiError, get, post, setCsrf } from './api.js';
import { clear, field, h, notice } from './dom.js';

function errorBox() {
	return h('div', { class: 'error-box', 'aria-live': 'assertive' });
}
function showError(box, e) {
	clear(box);
	let text = e instanceof ApiError || e.message ? e.message : String(e);
	if (e instanceof ApiError && e.code === 'locked' && e.body && e.body.retry_after)
		text += `（あと約${Math.ceil(e.body.retry_after / 60)}分）`;
	box.append(notice('error', text));
}

// The server's SVG (only rect and path elements, drawn by libqrencode) is
// parsed as XML, checked to hold nothing else, and adopted into the page;
// it is never handed to innerHTML.
function qrNode(svgText) {
	if (!svgText) return null;
	const doc = new DOMParser().parseFromString(svgText, 'image/svg+xml');
	const svg = doc.documentElement;
	if (svg.nodeName !== 'svg') return null;
	for (const el of svg.querySelectorAll('*')) if (!['rect', 'path'].includes(el.nodeName)) return null;
	const node = document.importNode(svg, true);
	node.setAttribute('class', 'qr');
	node.setAttribute('role', 'img');
	node.setAttribute('aria-label', '認証アプリで読み取る QR コード');
	return node;
}

export function renderLogin(view, ctx) {
	const me = ctx.me;
	if (me && me.mfa && me.mfa.state === 'pending') return codeStep(view, ctx);
	if (me && me.mfa && me.mfa.state === 'not_enrolled') return enrolStep(view, ctx);
	return passwordStep(view, ctx);
}

function card(view, title, ...children) {
	clear(view);
	const c = h('section', { class: 'login card', 'aria-labelledby': 'login-title' }, h('h1', { id: 'login-title' }, title), children);
	view.append(c);
	return c;
}

function passwordStep(view, ctx) {
	const login = h('input', { name: 'login', autocomplete: 'username', required: true, autocapitalize: 'none', spellcheck: 'false' });
	const pw = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
	const err = errorBox();
	const btn = h('button', { type: 'submit', class: 'primary wide' }, 'ログイン');
	const form = h(
		'form',
		{ novalidate: true },
		field('ログイン名', login, '職員ごとに配られたログイン名です。'),
		field('パスワード', pw),
		err,
		btn,
	);
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		if (!login.value.trim() || !pw.value) {
			showError(err, new Error('ログイン名とパスワードを入力してください。'));
			return;
		}
		btn.disabled = true;
		try {
			const r = await post('/api/login', { login: login.value.trim(), password: pw.value });
			setCsrf(r.me.csrf_token);
			ctx.me = r.me;
			if (r.status === 'ok') ctx.signedIn(r.me);
			else if (r.status === 'mfa_enrolment_required') enrolStep(view, ctx);
			else codeStep(view, ctx);
		} catch (e) {
			showError(err, e);
			btn.disabled = false;
		}
	});
	card(view, 'ログイン', h('p', { class: 'lead' }, '市の職員用の管理画面です。ログイン名とパスワードを入力してください。'), form);
	login.focus();
}

function codeStep(view, ctx) {
	const code = h('input', {
		name: 'code',
		inputmode: 'numeric',
		autocomplete: 'one-time-code',
		maxlength: '24',
		required: true,
	});
	const err = errorBox();
	const btn = h('button', { type: 'submit', class: 'primary wide' }, '確認');
	const form = h(
		'form',
		{ novalidate: true },
		field(
			'確認コード',
			code,
			'スマートフォンの認証アプリに表示されている6桁の数字を入力してください。スマートフォンが使えないときは、登録時に控えた回復コード（ABCD-EFGH-IJKL-MNOP の形）も使えます。',
		),
		err,
		btn,
	);
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		if (!code.value.trim()) {
			showError(err, new Error('確認コードを入力してください。'));
			return;
		}
		btn.disabled = true;
		try {
			const r = await post('/api/login/totp', { code: code.value.trim() });
			ctx.signedIn(r.me);
		} catch (e) {
			showError(err, e);
			btn.disabled = false;
			code.select();
		}
	});
	card(view, '二要素認証', form, backLink(view, ctx));
	code.focus();
}

function backLink(view, ctx) {
	const b = h('button', { type: 'button', class: 'link' }, '最初からやり直す');
	b.addEventListener('click', async () => {
		try {
			await post('/api/logout');
		} catch {
			/* the session may be gone already */
		}
		ctx.me = null;
		passwordStep(view, ctx);
	});
	return h('p', { class: 'back' }, b);
}

async function enrolStep(view, ctx) {
	const c = card(view, '二要素認証の登録', h('p', { class: 'loading' }, '準備中…'));
	let r;
	try {
		r = await post('/api/me/totp/begin');
	} catch (e) {
		clear(c);
		c.append(h('h1', { id: 'login-title' }, '二要素認証の登録'), notice('error', e.message), backLink(view, ctx));
		return;
	}
	const code = h('input', { name: 'code', inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: '6', required: true });
	const err = errorBox();
	const btn = h('button', { type: 'submit', class: 'primary wide' }, '登録する');
	const qr = qrNode(r.qr_svg);
	const form = h(
		'form',
		{ novalidate: true },
		field('認証アプリに表示された6桁の数字', code, '読み取ったあと、アプリに表示される数字を入力すると登録が終わります。'),
		err,
		btn,
	);
	clear(c);
	c.append(
		h('h1', { id: 'login-title' }, '二要素認証の登録'),
		h(
			'ol',
			{ class: 'steps' },
			h('li', {}, 'スマートフォンに認証アプリ（Google Authenticator、Microsoft Authenticator など）を入れます。'),
			h('li', {}, 'アプリで下の QR コードを読み取ります。読み取れないときは、その下の文字列を手で入力します。'),
			h('li', {}, 'アプリに表示された6桁の数字を入力して「登録する」を押します。'),
		),
		h('div', { class: 'qr-box' }, qr || notice('warn', 'QR コードを表示できません。下の文字列を手で入力してください。')),
		h('p', { class: 'secret-label' }, '手で入力する場合のキー：'),
		h('p', { class: 'secret', 'data-test': 'totp-secret' }, r.secret.replace(/(.{4})/g, '$1 ').trim()),
		form,
		backLink(view, ctx),
	);
	code.focus();
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		btn.disabled = true;
		try {
			const done = await post('/api/me/totp/confirm', { code: code.value.trim() });
			recoveryCodes(view, ctx, done.recovery_codes || []);
		} catch (e) {
			showError(err, e);
			btn.disabled = false;
		}
	});
}

function recoveryCodes(view, ctx, codes) {
	const ok = h('button', { type: 'button', class: 'primary wide' }, '控えました。管理画面へ進む');
	const saved = h('input', { type: 'checkbox', id: 'codes-saved' });
	ok.disabled = true;
	saved.addEventListener('change', () => (ok.disabled = !saved.checked));
	ok.addEventListener('click', async () => {
		const me = await get('/api/me');
		ctx.signedIn(me);
	});
	card(
		view,
		'回復コード',
		notice('ok', '二要素認証を登録しました。'),
		h(
			'p',
			{},
			'スマートフォンをなくしたときに、確認コードの代わりに使えるコードです。各コードは1回だけ使えます。この画面を閉じると二度と表示されません。印刷するか書き写して、他人に見られない場所に保管してください。',
		),
		h('ol', { class: 'codes', 'data-test': 'recovery-codes' }, codes.map((x) => h('li', {}, x))),
		h('p', { class: 'check' }, saved, h('label', { for: 'codes-saved' }, '回復コードを控えました')),
		ok,
	);
}
