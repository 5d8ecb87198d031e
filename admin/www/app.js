// app.js — the staff UI's shell: who is signed in, the menu (only what the
// role may use; the API enforces it anyway), and hash routing (#/compose,
// #/history, …) so that every screen is a plain static file.  See
// docs/admin-ui.md.
import { api, get, setCsrf, whenSignedOut } from './api.js';
import { clear, h, toast } from './dom.js';
import { renderLogin } from './login.js';
import { renderCompose } from './compose.js';
import { renderHistory } from './history.js';
import { renderSegments } from './segments.js';
import { renderStaff } from './staff.js';
import { renderMail } from './mail.js';
import { renderAudit } from './audit.js';
import { renderSettings } from './settings.js';

const screens = [
	{ path: 'compose', label: '配信作成', render: renderCompose },
	{ path: 'history', label: '配信履歴', render: renderHistory },
	{ path: 'segments', label: 'セグメント管理', render: renderSegments },
	{ path: 'staff', label: '職員管理', render: renderStaff, admin: true },
	{ path: 'mail', label: 'メール連携', render: renderMail },
	{ path: 'audit', label: '監査ログ', render: renderAudit, admin: true },
	{ path: 'settings', label: '設定', render: renderSettings },
];

const state = { me: null };
const view = () => document.getElementById('view');

export const roleLabel = (r) => (r === 'admin' ? '管理者' : '一般職員');

function allowed(s) {
	return !s.admin || (state.me && state.me.role === 'admin');
}

function drawChrome() {
	const nav = document.getElementById('nav');
	const who = document.getElementById('who');
	const toggle = document.getElementById('menu-toggle');
	clear(nav);
	if (!state.me || state.me.mfa.state !== 'verified') {
		nav.hidden = true;
		who.hidden = true;
		toggle.hidden = true;
		return;
	}
	const ul = h('ul', {});
	for (const s of screens.filter(allowed))
		ul.append(h('li', {}, h('a', { href: `#/${s.path}`, 'data-path': s.path }, s.label)));
	nav.append(ul);
	nav.hidden = false;
	toggle.hidden = false;
	who.hidden = false;
	document.getElementById('who-name').textContent =
		`${state.me.display_name}（${roleLabel(state.me.role)}${state.me.department ? '・' + state.me.department : ''}）`;
}

function markCurrent(path) {
	for (const a of document.querySelectorAll('#nav a')) {
		if (a.dataset.path === path) a.setAttribute('aria-current', 'page');
		else a.removeAttribute('aria-current');
	}
}

async function route() {
	const v = view();
	document.getElementById('nav').classList.remove('open');
	document.getElementById('menu-toggle').setAttribute('aria-expanded', 'false');
	if (!state.me || state.me.mfa.state !== 'verified') {
		clear(v);
		renderLogin(v, { me: state.me, signedIn });
		return;
	}
	const path = (location.hash.replace(/^#\/?/, '').split('?')[0] || 'compose').split('/')[0];
	const s = screens.find((x) => x.path === path && allowed(x)) || screens[0];
	markCurrent(s.path);
	document.title = `${s.label} — hotline 管理画面`;
	clear(v);
	v.append(h('h1', {}, s.label));
	try {
		await s.render(v, { me: state.me, go: (p) => (location.hash = `#/${p}`) });
	} catch (e) {
		v.append(h('p', { class: 'notice error', role: 'alert' }, e.message || String(e)));
	}
	v.focus({ preventScroll: true });
}

// Called by the sign-in screens with the answer's "me" once the session is
// complete (password and second factor).
function signedIn(me) {
	state.me = me;
	setCsrf(me && me.csrf_token);
	drawChrome();
	if (!location.hash || location.hash === '#/' || location.hash === '#/login') location.hash = '#/compose';
	else route();
}

async function boot() {
	whenSignedOut(() => {
		// Only a session that was signed in can expire (not the first GET /api/me).
		if (!state.me || state.me.mfa.state !== 'verified') return;
		state.me = null;
		setCsrf('');
		drawChrome();
		toast('ログインの有効期限が切れました。もう一度ログインしてください。', 'error');
		route();
	});
	document.getElementById('logout').addEventListener('click', async () => {
		try {
			await api('POST', '/api/logout');
		} catch {
			/* signed out anyway */
		}
		state.me = null;
		setCsrf('');
		drawChrome();
		location.hash = '#/';
		route();
	});
	document.getElementById('menu-toggle').addEventListener('click', (e) => {
		const nav = document.getElementById('nav');
		const open = nav.classList.toggle('open');
		e.currentTarget.setAttribute('aria-expanded', String(open));
	});
	try {
		state.me = await get('/api/me');
		setCsrf(state.me.csrf_token);
	} catch {
		state.me = null;
	}
	drawChrome();
	window.addEventListener('hashchange', route);
	await route();
	document.documentElement.dataset.ready = '1';
}

boot();
