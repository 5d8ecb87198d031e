// api.js — the one place that talks to hotline-admin's JSON API
// (docs/api.md).  Sends X-CSRF-Token on every state change, turns error
// answers into ApiError carrying the API's Japanese message, and tells the
// app when the session has ended.

export class ApiError extends Error {
	constructor(status, body) {
		super((body && body.message) || `サーバーからエラーが返りました（${status}）。`);
		this.status = status;
		this.code = (body && body.error) || 'http_' + status;
		this.field = body && body.field;
		this.body = body;
	}
}

let csrf = '';
let onSignedOut = () => {};

export function setCsrf(token) {
	csrf = token || '';
}
export function whenSignedOut(fn) {
	onSignedOut = fn;
}

export async function api(method, path, body) {
	const headers = { Accept: 'application/json' };
	const opts = { method, headers, credentials: 'same-origin', cache: 'no-store' };
	if (method !== 'GET' && method !== 'HEAD') {
		if (csrf) headers['X-CSRF-Token'] = csrf;
		if (body !== undefined) {
			headers['Content-Type'] = 'application/json';
			opts.body = JSON.stringify(body);
		}
	}
	let res;
	try {
		res = await fetch(path, opts);
	} catch {
		throw new ApiError(0, { error: 'network', message: 'サーバーに接続できません。ネットワークを確認してください。' });
	}
	let data = null;
	const type = res.headers.get('Content-Type') || '';
	if (type.includes('application/json')) {
		try {
			data = await res.json();
		} catch {
			data = null;
		}
	}
	if (!res.ok) {
		const err = new ApiError(res.status, data);
		if (res.status === 401 && err.code === 'unauthenticated' && !path.startsWith('/api/login')) onSignedOut(err);
		if (res.status === 404 && !data) err.message = 'この機能はまだ利用できません（サーバー側が未対応です）。';
		throw err;
	}
	return data;
}

export const get = (p) => api('GET', p);
export const post = (p, b) => api('POST', p, b === undefined ? {} : b);
export const put = (p, b) => api('PUT', p, b);
export const patch = (p, b) => api('PATCH', p, b);

// A query string from an object, leaving out empty values.
export function qs(params) {
	const u = new URLSearchParams();
	for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') u.set(k, v);
	const s = u.toString();
	return s ? `?${s}` : '';
}

// Download a file answer (CSV, raw mail) through a link to the same origin:
// the browser sends the session cookie; a GET needs no CSRF token.
export function download(path) {
	const a = document.createElement('a');
	a.href = path;
	a.download = '';
	a.rel = 'noopener';
	document.body.append(a);
	a.click();
	a.remove();
}
