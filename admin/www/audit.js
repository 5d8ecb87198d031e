// audit.js — 監査ログ (管理者 only): every staff action with who, when, what
// and from where; search by person, action and period; CSV for Excel; and a
// check of the log's SHA-256 chain (rows altered or removed).
import { download, get, qs } from './api.js';
import { clear, field, h, notice, table, when } from './dom.js';

const ACTIONS = {
	'staff.login': 'ログイン',
	'staff.login_failed': 'ログイン失敗',
	'staff.': '職員・ログイン関係すべて',
	'delivery.': '配信すべて',
	'delivery.send': '配信（今すぐ）',
	'delivery.schedule': '配信（予約）',
	'delivery.cancel': '配信の取消',
	'segment.': 'セグメント',
	'mail_rule.': 'メール連携ルール',
	'mail.': 'メール',
	'audit.': '監査ログの出力',
	'settings.': '設定',
};

export async function renderAudit(view) {
	const actor = h('input', { name: 'actor', autocomplete: 'off', placeholder: 'tamura' });
	const action = h('select', { name: 'action' }, h('option', { value: '' }, 'すべての操作'), Object.entries(ACTIONS).map(([k, l]) => h('option', { value: k }, l)));
	const from = h('input', { type: 'date', name: 'from' });
	const to = h('input', { type: 'date', name: 'to' });
	const search = h('button', { type: 'submit', class: 'primary' }, '検索');
	const csv = h('button', { type: 'button', class: 'secondary', 'data-test': 'audit-csv' }, 'CSV をダウンロード');
	const verify = h('button', { type: 'button', class: 'secondary' }, '改ざんがないか確認');
	const verifyOut = h('div', { 'aria-live': 'polite' });
	const list = h('div', { 'data-test': 'audit-list' });
	const more = h('button', { type: 'button', class: 'secondary', hidden: true }, 'さらに表示');
	const form = h(
		'form',
		{ class: 'card filters-form' },
		h('div', { class: 'grid' }, field('職員（ログイン名）', actor), field('操作', action), field('開始日', from), field('終了日', to)),
		h('div', { class: 'buttons' }, search, csv, verify),
	);
	view.append(h('p', { class: 'lead' }, '管理画面でのすべての操作の記録です。記録は変更・削除できません。'), form, verifyOut, list, more);
	const filters = () => ({ actor: actor.value.trim(), action: action.value, from: from.value, to: to.value });
	let rows = [];
	let next = null;
	async function load(append) {
		try {
			const r = await get('/api/audit' + qs({ ...filters(), before: append ? next : '' }));
			rows = append ? rows.concat(r.items || []) : r.items || [];
			next = r.next;
			more.hidden = !next;
			clear(list).append(
				table(
					[
						{ label: '日時', cell: (a) => when(a.at) },
						{ label: '職員', cell: (a) => a.actor || '—' },
						{ label: '操作', cell: (a) => h('span', { title: a.action }, label(a.action)) },
						{ label: '対象', cell: (a) => a.target || '—' },
						{ label: '詳細', cell: (a) => h('code', { class: 'detail' }, a.detail && Object.keys(a.detail).length ? JSON.stringify(a.detail) : '—'), class: 'wide' },
						{ label: 'IPアドレス', cell: (a) => a.ip || '—' },
					],
					rows,
				),
			);
		} catch (e) {
			clear(list).append(notice('error', e.message));
		}
	}
	form.addEventListener('submit', (e) => {
		e.preventDefault();
		load(false);
	});
	more.addEventListener('click', () => load(true));
	csv.addEventListener('click', () => download('/api/audit.csv' + qs(filters())));
	verify.addEventListener('click', async () => {
		clear(verifyOut);
		try {
			const r = await get('/api/audit/verify');
			verifyOut.append(
				r.ok
					? notice('ok', `記録 ${r.rows} 件を確認しました。改ざんや削除は見つかりませんでした。`)
					: notice('error', `記録番号 ${r.broken_at} で不整合が見つかりました。システム担当者に連絡してください。`),
			);
		} catch (e) {
			verifyOut.append(notice('error', e.message));
		}
	});
	await load(false);
}

// Japanese names of the actions written today (docs/api.md and the issue 7
// contract); an unknown one shows as it is.
const NAMES = {
	'staff.login': 'ログイン',
	'staff.login_password': 'ログイン（パスワード確認）',
	'staff.login_failed': 'ログイン失敗',
	'staff.lockout': 'アカウントのロック',
	'staff.login_refused': 'ログイン拒否（ロック中）',
	'staff.logout': 'ログアウト',
	'staff.totp_enroll': '二要素認証の登録',
	'staff.create': '職員の追加',
	'staff.update': '職員の変更',
	'staff.scope_change': '担当セグメントの変更',
	'staff.password_reset': 'パスワードの再設定',
	'staff.password_change': 'パスワードの変更',
	'staff.disable': 'アカウントの停止',
	'resident.tester': 'テスト受信者の変更',
	'segment.item_create': 'セグメント項目の追加',
	'segment.item_update': 'セグメント項目の変更',
	'segment.value_create': '選択肢の追加',
	'segment.value_update': '選択肢の変更',
	'delivery.test_send': 'テスト送信',
	'delivery.send': '配信（今すぐ）',
	'delivery.schedule': '配信（予約）',
	'delivery.submit': '配信（承認待ち）',
	'delivery.cancel': '配信の取消',
	'delivery.approve': '配信の承認',
	'settings.change': '設定の変更',
	'mail_rule.change': 'メール連携ルールの変更',
	'mail.view_raw': '元のメールの表示',
	'audit.export': '監査ログの出力',
};

function label(a) {
	return NAMES[a] || a;
}
