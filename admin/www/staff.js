// staff.js — 職員管理 (管理者 only): accounts by department, role
// (管理者 / 一般職員), which segment values a 一般職員 may send to (scope),
// password reset, disabling; and the test receivers (住民) that テスト送信
// reaches.
import { get, patch, post } from './api.js';
import { clear, confirmDialog, field, h, newId, notice, num, table, toast, when } from './dom.js';

const ROLE = { admin: '管理者', staff: '一般職員' };

export async function renderStaff(view) {
	const list = h('div', { 'data-test': 'staff-list' });
	const testers = h('div', { 'data-test': 'testers' });
	view.append(
		h('p', { class: 'lead' }, '管理画面を使う職員のアカウントです。一般職員は、ここで「担当」にしたセグメントの住民にだけ配信できます。'),
		list,
		newStaffForm(load),
		h('h2', {}, 'テスト受信者'),
		h('p', { class: 'help' }, '「テスト送信」はここに登録された住民（職員のスマートフォンの LINE など）にだけ届きます。'),
		testers,
	);
	let segs = { items: [] };
	let departments = [];
	try {
		[segs, departments] = await Promise.all([get('/api/segments'), get('/api/departments').then((r) => r.items || [])]);
	} catch (e) {
		view.append(notice('warn', `セグメントか部署を読み込めません：${e.message}`));
	}
	const valueLabel = new Map();
	for (const it of segs.items || []) for (const v of it.values || []) valueLabel.set(v.id, `${it.label}：${v.label}`);

	async function load() {
		try {
			const r = await get('/api/staff');
			clear(list).append(
				table(
					[
						{ label: '名前', cell: (s) => h('span', { 'data-test': 'staff-name' }, s.display_name) },
						{ label: 'ログイン名', cell: (s) => s.login },
						{ label: '部署', cell: (s) => s.department || '—' },
						{ label: '役割', cell: (s) => ROLE[s.role] || s.role },
						{
							label: '状態',
							cell: (s) =>
								h(
									'span',
									{},
									s.disabled ? h('span', { class: 'badge grey' }, '停止中') : h('span', { class: 'badge green' }, '有効'),
									s.locked ? h('span', { class: 'badge amber' }, 'ロック中') : null,
									s.mfa_enrolled ? null : h('span', { class: 'badge amber' }, '二要素未登録'),
								),
						},
						{ label: '担当セグメント', cell: (s) => (s.role === 'admin' ? 'すべて' : (s.scope || []).map((id) => valueLabel.get(id) || `#${id}`).join('、') || 'なし') },
						{ label: '最終ログイン', cell: (s) => when(s.last_login_at) },
						{
							label: '操作',
							cell: (s) => {
								const b = h('button', { type: 'button', class: 'link' }, '編集');
								b.addEventListener('click', () => edit(s));
								return b;
							},
						},
					],
					r.items || [],
				),
			);
		} catch (e) {
			clear(list).append(notice('error', e.message));
		}
	}

	function scopePicker(selected) {
		const boxes = [];
		const wrap = h('div', { class: 'scope-picker' });
		for (const it of (segs.items || []).filter((i) => i.kind !== 'date' && !i.retired)) {
			const group = h('fieldset', {}, h('legend', {}, it.label));
			for (const v of (it.values || []).filter((x) => !x.retired)) {
				const id = newId('sc');
				const cb = h('input', { type: 'checkbox', id, checked: selected.includes(v.id) });
				boxes.push([cb, v.id]);
				group.append(h('label', { class: 'value', for: id }, cb, v.label));
			}
			wrap.append(group);
		}
		wrap.read = () => boxes.filter(([cb]) => cb.checked).map(([, id]) => id);
		return wrap;
	}

	async function edit(s) {
		const name = h('input', { value: s.display_name, maxlength: '100' });
		const dept = h('input', { value: s.department || '', list: 'departments', maxlength: '100' });
		const role = h('select', {}, Object.entries(ROLE).map(([k, l]) => h('option', { value: k }, l)));
		role.value = s.role;
		const disabled = h('input', { type: 'checkbox', id: 'edit-disabled', checked: s.disabled });
		const pw = h('input', { type: 'password', autocomplete: 'new-password', minlength: '12' });
		const scope = scopePicker(s.scope || []);
		const ok = await confirmDialog({
			title: `${s.display_name}（${s.login}）を編集`,
			body: [
				field('名前', name),
				field('部署', dept),
				h('datalist', { id: 'departments' }, departments.map((d) => h('option', { value: d.name }))),
				field('役割', role, '管理者はすべての機能を使え、全員に配信できます。'),
				h('h3', {}, '担当セグメント（一般職員）'),
				h('p', { class: 'help' }, '一般職員は、チェックした選択肢を含む条件でのみ配信できます。'),
				scope,
				field('新しいパスワード（変更するときだけ）', pw, '12文字以上。本人に安全な方法で伝え、初回ログイン後に変更してもらってください。'),
				h('p', { class: 'check' }, disabled, h('label', { for: 'edit-disabled' }, 'このアカウントを停止する（ログインできなくなります）')),
			],
			ok: '保存',
		});
		if (!ok) return;
		const change = {};
		if (name.value !== s.display_name) change.display_name = name.value;
		if (dept.value !== (s.department || '')) change.department = dept.value;
		if (role.value !== s.role) change.role = role.value;
		if (disabled.checked !== Boolean(s.disabled)) change.disabled = disabled.checked;
		const sc = scope.read();
		if (JSON.stringify([...sc].sort()) !== JSON.stringify([...(s.scope || [])].sort())) change.scope = sc;
		if (pw.value) change.password = pw.value;
		if (!Object.keys(change).length) return;
		try {
			await patch(`/api/staff/${s.id}`, change);
			toast('保存しました。');
			load();
		} catch (e) {
			toast(e.message, 'error');
		}
	}

	async function loadTesters() {
		try {
			const r = await get('/api/residents/testers');
			clear(testers).append(
				table(
					[
						{ label: '住民番号', cell: (t) => String(t.id), class: 'num' },
						{ label: '友だち追加', cell: (t) => when(t.followed_at) },
						{
							label: '操作',
							cell: (t) => {
								const b = h('button', { type: 'button', class: 'link danger' }, 'テスト受信者から外す');
								b.addEventListener('click', () => setTester(t.id, false));
								return b;
							},
						},
					],
					r.items || [],
					{ empty: 'テスト受信者はいません。テスト送信は誰にも届きません。' },
				),
			);
		} catch (e) {
			clear(testers).append(notice('error', e.message));
		}
		const id = h('input', { type: 'number', min: '1', 'aria-label': '住民番号' });
		const add = h('button', { type: 'button', class: 'secondary small' }, 'テスト受信者にする');
		add.addEventListener('click', () => id.value && setTester(Number(id.value), true));
		testers.append(h('p', { class: 'inline-form' }, id, add));
	}
	async function setTester(id, on) {
		try {
			await patch(`/api/residents/${id}`, { is_tester: on });
			toast('保存しました。');
			loadTesters();
		} catch (e) {
			toast(e.message, 'error');
		}
	}

	await Promise.all([load(), loadTesters()]);
}

function newStaffForm(reload) {
	const login = h('input', { maxlength: '63', autocomplete: 'off', autocapitalize: 'none' });
	const name = h('input', { maxlength: '100', 'data-test': 'new-staff-name' });
	const dept = h('input', { maxlength: '100', list: 'departments' });
	const role = h('select', {}, Object.entries(ROLE).reverse().map(([k, l]) => h('option', { value: k }, l)));
	const pw = h('input', { type: 'password', autocomplete: 'new-password', minlength: '12' });
	const err = h('div', {});
	const form = h(
		'form',
		{ class: 'card', novalidate: true },
		h('h2', {}, '職員を追加'),
		field('ログイン名', login, '半角英数字。ログインのときに入力します。'),
		field('名前', name, '画面と監査ログに表示されます。'),
		field('部署', dept),
		field('役割', role),
		field('初期パスワード', pw, '12文字以上。初回ログインで二要素認証の登録を求められます。'),
		err,
		h('button', { type: 'submit', class: 'primary' }, '追加'),
	);
	form.addEventListener('submit', async (e) => {
		e.preventDefault();
		clear(err);
		try {
			await post('/api/staff', { login: login.value.trim(), display_name: name.value.trim(), department: dept.value.trim() || null, role: role.value, password: pw.value });
			toast('職員を追加しました。');
			form.reset();
			reload();
		} catch (x) {
			err.append(notice('error', x.message));
		}
	});
	return form;
}

