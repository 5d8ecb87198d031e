// history.js — 配信履歴: every delivery (from staff, from mail, reminders)
// with its status, source and figures; a detail view with the messages as
// LINE shows them; 予約取消 and 承認 where the API allows them.
import { get, post, qs } from './api.js';
import { clear, confirmDialog, h, notice, num, showDialog, table, toast, when } from './dom.js';
import { renderMessages } from './preview.js';

// deliveries.status (db/migrations/0004): draft → pending_approval →
// scheduled/queued → sending → done/failed; cancelled; held for staff.
export const STATUS = {
	draft: ['下書き', 'grey'],
	pending_approval: ['承認待ち', 'amber'],
	scheduled: ['予約済み', 'blue'],
	queued: ['送信待ち', 'blue'],
	sending: ['送信中', 'blue'],
	done: ['送信済み', 'green'],
	failed: ['失敗', 'red'],
	cancelled: ['取消', 'grey'],
	held: ['保留', 'amber'],
};
export const SOURCE = { mail: 'メール', staff: '職員', reminder: 'リマインダー', system: 'システム' };

export function statusBadge(s) {
	const [label, color] = STATUS[s] || [s || '—', 'grey'];
	return h('span', { class: ['badge', color], 'data-status': s }, label);
}

const cancellable = (d) => ['queued', 'scheduled', 'pending_approval', 'held'].includes(d.status) && !d.started_at;

export async function renderHistory(view, ctx) {
	const me = ctx.me;
	const status = h(
		'select',
		{ 'aria-label': '状態で絞り込み', 'data-test': 'filter-status' },
		h('option', { value: '' }, 'すべての状態'),
		Object.entries(STATUS)
			.filter(([k]) => k !== 'draft')
			.map(([k, [l]]) => h('option', { value: k }, l)),
	);
	const source = h(
		'select',
		{ 'aria-label': '送信元で絞り込み', 'data-test': 'filter-source' },
		h('option', { value: '' }, 'すべての送信元'),
		Object.entries(SOURCE).map(([k, l]) => h('option', { value: k }, l)),
	);
	const reload = h('button', { type: 'button', class: 'secondary', 'data-test': 'reload' }, '最新の状態にする');
	const list = h('div', { 'data-test': 'history-list' });
	const more = h('button', { type: 'button', class: 'secondary', hidden: true }, 'さらに表示');
	view.append(
		h('p', { class: 'lead' }, '職員が送ったもの、メール連携で送られたものを含む、すべての配信です。新しい順に並びます。'),
		h('div', { class: 'filters' }, status, source, reload),
		list,
		more,
	);
	let rows = [];
	let next = null;

	async function load(append) {
		try {
			const r = await get('/api/deliveries' + qs({ status: status.value, source: source.value, before: append ? next : '' }));
			rows = append ? rows.concat(r.items || []) : r.items || [];
			next = r.next;
			more.hidden = !next;
			draw();
		} catch (e) {
			clear(list).append(notice('error', e.message));
		}
	}

	function actions(d) {
		const out = [];
		const open = h('button', { type: 'button', class: 'link', 'data-test': 'detail' }, '詳細');
		open.addEventListener('click', () => detail(d.id));
		out.push(open);
		const mine = d.created_by && d.created_by.id === me.id;
		if (cancellable(d) && (me.role === 'admin' || mine)) {
			const b = h('button', { type: 'button', class: 'link danger', 'data-test': 'cancel' }, d.status === 'scheduled' ? '予約取消' : '取消');
			b.addEventListener('click', () => cancel(d));
			out.push(b);
		}
		if (d.status === 'pending_approval' && !mine) {
			const b = h('button', { type: 'button', class: 'link', 'data-test': 'approve' }, '承認');
			b.addEventListener('click', () => approve(d));
			out.push(b);
		}
		return h('span', { class: 'row-actions' }, out);
	}

	function draw() {
		clear(list).append(
			table(
				[
					{ label: '番号', cell: (d) => String(d.id), class: 'num' },
					{ label: '状態', cell: (d) => h('span', {}, statusBadge(d.status), d.is_test ? h('span', { class: 'badge grey' }, 'テスト') : null) },
					{ label: '送信元', cell: (d) => SOURCE[d.source] || d.source || '—' },
					{ label: 'タイトル', cell: (d) => h('span', { class: 'title-cell', 'data-test': 'row-title' }, d.title || '（タイトルなし）'), class: 'wide' },
					{ label: '送る相手', cell: (d) => (d.everyone ? '友だち全員' : d.target_label || '—') },
					{ label: '日時', cell: (d) => (d.status === 'scheduled' ? `予約 ${when(d.send_at)}` : when(d.started_at || d.created_at)) },
					{ label: '対象', cell: (d) => num(d.targeted), class: 'num' },
					{ label: '送信成功', cell: (d) => num(d.accepted), class: 'num' },
					{ label: '失敗', cell: (d) => num(d.failed), class: 'num' },
					{ label: '操作', cell: actions },
				],
				rows,
				{ empty: 'まだ配信はありません。' },
			),
		);
		for (const [i, tr] of [...list.querySelectorAll('tbody tr')].entries()) tr.dataset.id = String(rows[i].id);
	}

	async function cancel(d) {
		const ok = await confirmDialog({
			title: '配信を取り消しますか？',
			body: [h('p', {}, `「${d.title || '（タイトルなし）'}」（番号 ${d.id}）を取り消します。取り消した配信は送られません。`)],
			ok: '取り消す',
			danger: true,
		});
		if (!ok) return;
		try {
			await post(`/api/deliveries/${d.id}/cancel`);
			toast('取り消しました。');
			load(false);
		} catch (e) {
			toast(e.message, 'error');
		}
	}

	async function approve(d) {
		const ok = await confirmDialog({
			title: '配信を承認しますか？',
			body: [h('p', {}, `「${d.title || '（タイトルなし）'}」（番号 ${d.id}）を承認すると、${d.send_at ? '予約の日時に' : 'すぐに'}送信されます。`), h('p', {}, `送る相手：${d.everyone ? '友だち全員' : d.target_label || '—'}`)],
			ok: '承認する',
		});
		if (!ok) return;
		try {
			await post(`/api/deliveries/${d.id}/approve`);
			toast('承認しました。');
			load(false);
		} catch (e) {
			toast(e.message, 'error');
		}
	}

	async function detail(id) {
		let d;
		try {
			d = await get(`/api/deliveries/${id}`);
		} catch (e) {
			toast(e.message, 'error');
			return;
		}
		const pv = h('div', { class: 'preview small' });
		renderMessages(pv, d.messages || []);
		const rowsDl = [
			['状態', statusBadge(d.status)],
			['送信元', SOURCE[d.source] || d.source],
			['送る相手', d.everyone ? '友だち全員' : d.target_label || '—'],
			['作成', `${when(d.created_at)}${d.created_by ? '（' + d.created_by.display_name + '）' : ''}`],
			['承認', d.approved_by ? d.approved_by.display_name : '—'],
			['予約日時', when(d.send_at)],
			['送信開始', when(d.started_at)],
			['送信完了', when(d.finished_at)],
			['対象 / 成功 / 失敗', `${num(d.targeted)} / ${num(d.accepted)} / ${num(d.failed)}`],
			['保留の理由', d.hold_reason || '—'],
			['エラー', d.error || '—'],
			['元のメール', d.mail_id ? h('a', { href: `#/mail?id=${d.mail_id}` }, `メール番号 ${d.mail_id}`) : '—'],
		];
		showDialog(`配信 ${d.id}：${d.title || '（タイトルなし）'}`, [
			h('dl', { class: 'summary', 'data-test': 'delivery-detail' }, rowsDl.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
			h('h3', {}, 'LINE での見え方'),
			pv,
		]);
	}

	reload.addEventListener('click', () => load(false));
	status.addEventListener('change', () => load(false));
	source.addEventListener('change', () => load(false));
	more.addEventListener('click', () => load(true));
	await load(false);
}
