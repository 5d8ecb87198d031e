// 受信設定 — the resident's segment settings page, opened from the rich menu
// inside LINE (LIFF).
//
// Who the resident is comes only from the LIFF ID token (liff.getIDToken()),
// sent as "Authorization: Bearer"; hotline-webhook verifies it with LINE.
// No user id or other personal data ever goes into a URL.  The item list
// comes from the server (staff add items at any time), and each item is
// drawn by its kind: single -> radio buttons, multi -> check boxes, date ->
// a list of date fields (children's birthdates).  The DOM is built with
// textContent only: nothing from the server is parsed as HTML.
'use strict';

(function () {
	const API = 'api/settings';
	let idToken = null;
	let state = null; // the last answer of GET/PUT api/settings

	const $ = (id) => document.getElementById(id);

	function el(tag, attrs, ...children) {
		const e = document.createElement(tag);
		for (const [k, v] of Object.entries(attrs || {})) {
			if (v === false || v === null || v === undefined) continue;
			if (k === 'class') e.className = v;
			else if (k === 'text') e.textContent = v;
			else e.setAttribute(k, v === true ? '' : String(v));
		}
		for (const c of children) if (c) e.append(c);
		return e;
	}

	// A message in the status box; focus moves there so that screen readers
	// and sighted users both notice it.  reasons: [{item, message}].
	function showStatus(kind, message, reasons) {
		const box = $('status');
		box.replaceChildren();
		box.className = 'status ' + kind;
		box.setAttribute('role', kind === 'error' ? 'alert' : 'status');
		box.append(el('p', { class: 'status-text', text: message }));
		if (reasons && reasons.length) {
			const ul = el('ul');
			for (const r of reasons) ul.append(el('li', { text: r.message }));
			box.append(ul);
		}
		box.hidden = false;
		box.focus();
	}

	function clearStatus() {
		$('status').hidden = true;
		for (const f of document.querySelectorAll('fieldset[aria-invalid]')) {
			f.removeAttribute('aria-invalid');
			const err = f.querySelector('.field-error');
			if (err) err.remove();
		}
	}

	function fail(message) {
		$('loading').hidden = true;
		showStatus('error', message);
	}

	async function api(method, body) {
		const headers = { Authorization: 'Bearer ' + idToken };
		if (body !== undefined) headers['Content-Type'] = 'application/json';
		let res;
		try {
			res = await fetch(API, {
				method,
				headers,
				body: body === undefined ? undefined : JSON.stringify(body),
				cache: 'no-store',
				credentials: 'omit',
			});
		} catch (e) {
			return { ok: false, data: { message: '通信できませんでした。電波の良いところで、もう一度お試しください。' } };
		}
		let data = null;
		try {
			data = await res.json();
		} catch (e) {
			data = { message: 'サーバーから正しい応答がありませんでした。しばらくしてからもう一度お試しください。' };
		}
		return { ok: res.ok, status: res.status, data };
	}

	// ---- drawing the items ------------------------------------------------

	function choiceItem(item) {
		const single = item.kind === 'single';
		const descId = 'desc-' + item.key;
		const fs = el('fieldset', {
			id: 'item-' + item.key,
			'data-key': item.key,
			'data-kind': item.kind,
			'aria-describedby': item.description ? descId : null,
		});
		fs.append(el('legend', { text: item.label }));
		if (item.description) fs.append(el('p', { class: 'desc', id: descId, text: item.description }));
		else if (item.kind === 'multi') fs.append(el('p', { class: 'desc', text: 'いくつでも選べます。' }));
		const box = el('div', { class: 'options' });
		const values = item.values.slice();
		if (single) {
			// A way back to "not set" for single items.
			values.push({ key: '', label: '選択しない', chosen: !item.values.some((v) => v.chosen) });
		}
		for (const v of values) {
			const id = 'v-' + item.key + '-' + (v.key || 'none');
			const input = el('input', {
				type: single ? 'radio' : 'checkbox',
				id,
				name: item.key,
				value: v.key,
			});
			input.checked = !!v.chosen;
			box.append(el('label', { class: 'option', for: id }, input, el('span', { text: v.label })));
		}
		fs.append(box);
		return fs;
	}

	function dateRow(item, list, value) {
		const n = list.children.length + 1;
		const id = 'd-' + item.key + '-' + Date.now().toString(36) + '-' + n;
		const input = el('input', { type: 'date', id, min: '1900-01-01', max: state.today, value: value || null });
		if (value) input.value = value;
		const caption = el('span', { class: 'date-caption' });
		const label = el('label', { for: id }, caption, input);
		const remove = el('button', { type: 'button', class: 'remove' }, '削除');
		const li = el('li', {}, label, remove);
		remove.addEventListener('click', () => {
			const next = li.nextElementSibling || li.previousElementSibling;
			li.remove();
			renumber(item, list);
			const focusTarget = next ? next.querySelector('input') : list.parentElement.querySelector('button.secondary');
			if (focusTarget) focusTarget.focus();
		});
		list.append(li);
		renumber(item, list);
		return input;
	}

	// "1人目", "2人目"…: labels and the remove buttons' names follow the order.
	function renumber(item, list) {
		const rows = Array.from(list.children);
		rows.forEach((li, i) => {
			const name = item.label + '（' + (i + 1) + '人目）';
			li.querySelector('.date-caption').textContent = (i + 1) + '人目';
			li.querySelector('input').setAttribute('aria-label', name);
			li.querySelector('button.remove').setAttribute('aria-label', name + 'を削除');
		});
		const add = list.parentElement && list.parentElement.querySelector('button.secondary');
		if (add) add.disabled = rows.length >= state.maxDates;
	}

	function dateItem(item) {
		const descId = 'desc-' + item.key;
		const fs = el('fieldset', {
			id: 'item-' + item.key,
			'data-key': item.key,
			'data-kind': 'date',
			'aria-describedby': descId,
		});
		fs.append(el('legend', { text: item.label }));
		fs.append(el('p', {
			class: 'desc',
			id: descId,
			text: (item.description ? item.description + ' ' : '') + state.maxDates + '人まで登録できます。該当しない場合は空のままで構いません。',
		}));
		const list = el('ul', { class: 'dates' });
		fs.append(list);
		const add = el('button', { type: 'button', class: 'secondary' }, '＋ ' + item.label + 'を追加');
		add.addEventListener('click', () => dateRow(item, list).focus());
		fs.append(add);
		for (const d of item.dates) dateRow(item, list, d);
		renumber(item, list);
		return fs;
	}

	function render() {
		const items = $('items');
		items.replaceChildren();
		for (const item of state.items) {
			items.append(item.kind === 'date' ? dateItem(item) : choiceItem(item));
		}
		$('loading').hidden = true;
		$('form').hidden = false;
	}

	// ---- saving -------------------------------------------------------------

	function collect() {
		const settings = {};
		for (const fs of document.querySelectorAll('#items fieldset')) {
			const key = fs.dataset.key;
			if (fs.dataset.kind === 'date') {
				settings[key] = Array.from(fs.querySelectorAll('input[type=date]'))
					.map((i) => i.value)
					.filter((v) => v !== '');
			} else {
				settings[key] = Array.from(fs.querySelectorAll('input:checked'))
					.map((i) => i.value)
					.filter((v) => v !== '');
			}
		}
		return { settings };
	}

	function markInvalid(reasons) {
		for (const r of reasons || []) {
			const fs = r.item && document.getElementById('item-' + r.item);
			if (!fs) continue;
			fs.setAttribute('aria-invalid', 'true');
			const p = el('p', { class: 'field-error', text: r.message });
			fs.querySelector('legend').after(p);
		}
	}

	async function save(ev) {
		ev.preventDefault();
		clearStatus();
		const button = $('save');
		button.disabled = true;
		button.textContent = '保存しています…';
		const r = await api('PUT', collect());
		button.disabled = false;
		button.textContent = '保存する';
		if (r.ok) {
			state = r.data;
			render();
			showStatus('ok', '保存しました。この設定でお知らせをお届けします。');
			return;
		}
		markInvalid(r.data && r.data.reasons);
		showStatus('error', (r.data && r.data.message) || '保存できませんでした。', r.data && r.data.reasons);
	}

	// ---- start ----------------------------------------------------------------

	async function start() {
		$('form').addEventListener('submit', save);
		let config;
		try {
			const res = await fetch('api/config', { cache: 'no-store', credentials: 'omit' });
			config = await res.json();
		} catch (e) {
			fail('通信できませんでした。電波の良いところで、もう一度開いてください。');
			return;
		}
		if (!window.liff) {
			fail('ページを準備できませんでした。LINEアプリから開き直してください。');
			return;
		}
		try {
			await window.liff.init({ liffId: config.liffId });
		} catch (e) {
			fail('LINEとの連携を始められませんでした。LINEアプリから開き直してください。');
			return;
		}
		if (!window.liff.isLoggedIn()) {
			// Outside the LINE app: LINE Login, then back here.
			window.liff.login({ redirectUri: location.origin + location.pathname });
			return;
		}
		idToken = window.liff.getIDToken();
		if (!idToken) {
			fail('本人確認ができませんでした。LINEアプリから開き直してください。');
			return;
		}
		const r = await api('GET');
		if (!r.ok) {
			fail((r.data && r.data.message) || '設定を読み込めませんでした。');
			return;
		}
		state = r.data;
		render();
	}

	document.addEventListener('DOMContentLoaded', start);
})();
