// dom.js — building the page with DOM APIs only.  Every piece of data
// becomes a text node (textContent), never markup: the API's answers hold
// text that staff and mail senders typed, so innerHTML is never used.

// h('button', {class: 'primary', onclick: fn, type: 'button'}, 'text', child…)
// Attributes are set with setAttribute (never "style": the CSP forbids
// inline style, so looks come from classes in style.css).
export function h(tag, attrs, ...children) {
	const el = tag.startsWith('svg:')
		? document.createElementNS('http://www.w3.org/2000/svg', tag.slice(4))
		: document.createElement(tag);
	for (const [k, v] of Object.entries(attrs || {})) {
		if (v === undefined || v === null || v === false) continue;
		if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
		else if (k === 'class') el.className = Array.isArray(v) ? v.filter(Boolean).join(' ') : v;
		else if (k === 'text') el.textContent = String(v);
		else if (k === 'value') el.value = v;
		else if (k === 'checked') el.checked = Boolean(v);
		else if (k === 'style' || k === 'innerHTML') throw new Error(`h(): ${k} is not allowed`);
		else el.setAttribute(k, v === true ? '' : String(v));
	}
	append(el, children);
	return el;
}

export function append(el, children) {
	for (const c of children.flat(Infinity)) {
		if (c === undefined || c === null || c === false) continue;
		el.append(c instanceof Node ? c : document.createTextNode(String(c)));
	}
	return el;
}

export function clear(el) {
	while (el.firstChild) el.firstChild.remove();
	return el;
}

let uid = 0;
export const newId = (p = 'f') => `${p}-${++uid}`;

// A labelled form row: label, control, optional help text (tied with
// aria-describedby so screen readers read it).
export function field(label, control, help) {
	const id = control.id || newId();
	control.id = id;
	const row = h('div', { class: 'field' }, h('label', { for: id }, label), control);
	if (help) {
		const hid = `${id}-help`;
		control.setAttribute('aria-describedby', hid);
		row.append(h('p', { class: 'help', id: hid }, help));
	}
	return row;
}

// Times from the API are ISO 8601 with an offset; staff read Japan time.
const fmt = new Intl.DateTimeFormat('ja-JP', {
	timeZone: 'Asia/Tokyo',
	year: 'numeric',
	month: '2-digit',
	day: '2-digit',
	hour: '2-digit',
	minute: '2-digit',
});
export function when(iso) {
	if (!iso) return '—';
	const d = new Date(iso);
	return Number.isNaN(d.getTime()) ? String(iso) : fmt.format(d);
}

export function num(n) {
	return n === null || n === undefined ? '—' : Number(n).toLocaleString('ja-JP');
}

// A status line (role=status, read out by screen readers).
export function notice(kind, text) {
	return h('p', { class: ['notice', kind], role: kind === 'error' ? 'alert' : 'status' }, text);
}

let toastTimer;
export function toast(text, kind = 'ok') {
	const t = document.getElementById('toast');
	clear(t);
	t.className = `toast ${kind} shown`;
	t.textContent = text;
	clearTimeout(toastTimer);
	toastTimer = setTimeout(() => t.classList.remove('shown'), 5000);
}

// A modal confirmation: resolves true when staff press the confirm button.
// body: nodes explaining what will happen (built with h()).
export function confirmDialog({ title, body, ok = '実行する', danger = false }) {
	return new Promise((resolve) => {
		const dlg = document.getElementById('dialog');
		clear(dlg);
		let answer = false;
		const okBtn = h(
			'button',
			{ type: 'button', class: danger ? 'danger' : 'primary', 'data-test': 'confirm-ok' },
			ok,
		);
		const cancel = h('button', { type: 'button', class: 'secondary', 'data-test': 'confirm-cancel' }, 'キャンセル');
		okBtn.addEventListener('click', () => {
			answer = true;
			dlg.close();
		});
		cancel.addEventListener('click', () => dlg.close());
		dlg.append(
			h('h2', { id: 'dialog-title' }, title),
			h('div', { class: 'dialog-body' }, body),
			h('div', { class: 'buttons' }, cancel, okBtn),
		);
		dlg.setAttribute('aria-labelledby', 'dialog-title');
		dlg.addEventListener('close', () => resolve(answer), { once: true });
		dlg.showModal();
		cancel.focus();
	});
}

// A modal that only shows something (a detail); closes with its button.
export function showDialog(title, body) {
	const dlg = document.getElementById('dialog');
	clear(dlg);
	const close = h('button', { type: 'button', class: 'secondary' }, '閉じる');
	close.addEventListener('click', () => dlg.close());
	dlg.append(h('h2', { id: 'dialog-title' }, title), h('div', { class: 'dialog-body' }, body), h('div', { class: 'buttons' }, close));
	dlg.setAttribute('aria-labelledby', 'dialog-title');
	dlg.showModal();
}

export function debounce(fn, ms) {
	let t;
	return (...a) => {
		clearTimeout(t);
		t = setTimeout(() => fn(...a), ms);
	};
}

// A table from rows: columns [{label, cell: row => node|text, class}].
export function table(columns, rows, { empty = '該当するものはありません。', caption } = {}) {
	if (!rows.length) return h('p', { class: 'empty' }, empty);
	return h(
		'div',
		{ class: 'table-wrap' },
		h(
			'table',
			{},
			caption ? h('caption', {}, caption) : null,
			h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.class }, c.label)))),
			h(
				'tbody',
				{},
				rows.map((r) =>
					h(
						'tr',
						{},
						columns.map((c) => h('td', { class: c.class, 'data-label': c.label }, c.cell(r))),
					),
				),
			),
		),
	);
}
