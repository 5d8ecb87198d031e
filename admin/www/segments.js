// segments.js — セグメント管理: the items residents choose in 受信設定
// (地域, 年代, カテゴリー…) and their values, with how many residents chose
// each; 管理者 create, rename and retire them (retired ones stay in the
// database so that old deliveries still read, and can be brought back).
import { get, patch, post, qs } from './api.js';
import { clear, confirmDialog, field, h, notice, num, toast } from './dom.js';

const KIND = { single: '1つ選ぶ', multi: 'いくつでも選ぶ', date: '日付（生年月日など）' };

export async function renderSegments(view, ctx) {
	const admin = ctx.me.role === 'admin';
	const showRetired = h('input', { type: 'checkbox', id: 'seg-retired' });
	const totals = h('div', { class: 'totals', 'data-test': 'resident-totals' });
	const list = h('div', { class: 'segments', 'data-test': 'segments' });
	view.append(
		h('p', { class: 'lead' }, '住民が LINE の「受信設定」で選ぶ項目と選択肢です。配信作成の「送る相手」で使います。'),
		totals,
		admin ? h('p', { class: 'check' }, showRetired, h('label', { for: 'seg-retired' }, '使わなくなった項目・選択肢も表示する')) : null,
		list,
	);
	if (admin) view.append(newItemForm(load));

	async function load() {
		let r;
		try {
			r = await get('/api/segments' + qs({ include_retired: showRetired.checked ? '1' : '' }));
		} catch (e) {
			clear(list).append(notice('error', e.message));
			return;
		}
		const res = r.residents || {};
		clear(totals).append(
			h(
				'dl',
				{ class: 'figures' },
				h('div', {}, h('dt', {}, '友だち（受信中）'), h('dd', {}, `${num(res.active)} 人`)),
				h('div', {}, h('dt', {}, 'ブロック中'), h('dd', {}, `${num(res.blocked)} 人`)),
				h('div', {}, h('dt', {}, 'テスト受信者'), h('dd', {}, `${num(res.testers)} 人`)),
			),
		);
		clear(list);
		if (!(r.items || []).length) list.append(h('p', { class: 'empty' }, '項目はまだありません。'));
		for (const it of r.items || []) list.append(itemCard(it));
	}

	function itemCard(it) {
		const card = h(
			'section',
			{ class: ['card', 'segment', it.retired && 'retired'], 'data-test': 'segment-item', 'data-key': it.key },
			h(
				'header',
				{},
				h('h2', {}, it.label, it.retired ? h('span', { class: 'badge grey' }, '使用停止') : null),
				h('p', { class: 'muted' }, `キー：${it.key}・${KIND[it.kind] || it.kind}${it.match_when_unset ? '・未選択の人はすべてに当てはまる' : ''}`),
				it.description ? h('p', { class: 'help' }, it.description) : null,
			),
		);
		const rows = h('ul', { class: 'values-list' });
		for (const v of it.values || []) {
			const li = h(
				'li',
				{ class: v.retired && 'retired' },
				h('span', { class: 'value-label' }, v.label),
				h('span', { class: 'muted' }, ` （${v.key}）`),
				v.retired ? h('span', { class: 'badge grey' }, '使用停止') : null,
				v.in_scope === true ? h('span', { class: 'badge scope' }, '担当') : null,
				h('span', { class: 'count' }, `${num(v.residents)} 人`),
			);
			if (admin) {
				const rename = h('button', { type: 'button', class: 'link' }, '名前を変更');
				rename.addEventListener('click', () => renameValue(v));
				const retire = h('button', { type: 'button', class: 'link' }, v.retired ? '使用を再開' : '使用停止');
				retire.addEventListener('click', () => setRetired(`/api/segments/values/${v.id}`, v.label, !v.retired));
				li.append(h('span', { class: 'row-actions' }, rename, retire));
			}
			rows.append(li);
		}
		card.append(it.kind === 'date' ? h('p', { class: 'help' }, '日付の項目には選択肢はありません。配信作成で年齢の範囲を指定します。') : rows);
		if (admin) {
			const rename = h('button', { type: 'button', class: 'secondary small' }, '項目名を変更');
			rename.addEventListener('click', () => renameItem(it));
			const retire = h('button', { type: 'button', class: 'secondary small' }, it.retired ? '項目の使用を再開' : '項目を使用停止');
			retire.addEventListener('click', () => setRetired(`/api/segments/items/${it.id}`, it.label, !it.retired));
			card.append(h('div', { class: 'buttons' }, rename, retire));
			if (it.kind !== 'date') card.append(newValueForm(it, load));
		}
		return card;
	}

	async function renameItem(it) {
		const label = h('input', { value: it.label, maxlength: '100' });
		const desc = h('textarea', { rows: '3' });
		desc.value = it.description || '';
		const ok = await confirmDialog({ title: '項目名を変更', body: [field('項目名（住民に表示）', label), field('説明（住民に表示）', desc)], ok: '保存' });
		if (!ok) return;
		try {
			await patch(`/api/segments/items/${it.id}`, { label: label.value, description: desc.value });
			toast('保存しました。');
			load();
		} catch (e) {
			toast(e.message, 'error');
		}
	}
	async function renameValue(v) {
		const label = h('input', { value: v.label, maxlength: '100' });
		const ok = await confirmDialog({ title: '選択肢の名前を変更', body: [field('選択肢の名前（住民に表示）', label)], ok: '保存' });
		if (!ok) return;
		try {
			await patch(`/api/segments/values/${v.id}`, { label: label.value });
			toast('保存しました。');
			load();
		} catch (e) {
			toast(e.message, 'error');
		}
	}
	async function setRetired(path, label, retired) {
		const ok = await confirmDialog({
			title: retired ? '使用を停止しますか？' : '使用を再開しますか？',
			body: [
				h(
					'p',
					{},
					retired
						? `「${label}」を住民の受信設定と配信作成に表示しなくなります。住民がすでに選んだ内容は残り、再開すると元に戻ります。`
						: `「${label}」をふたたび表示します。`,
				),
			],
			ok: retired ? '使用停止' : '再開',
			danger: retired,
		});
		if (!ok) return;
		try {
			await patch(path, { retired });
			toast('保存しました。');
			load();
		} catch (e) {
			toast(e.message, 'error');
		}
	}

	showRetired.addEventListener('change', load);
	await load();
}

function newValueForm(it, reload) {
	const key = h('input', { maxlength: '63', pattern: '[a-z0-9_]+', placeholder: 'kurabuchi', 'aria-label': `${it.label}の新しい選択肢のキー` });
	const label = h('input', { maxlength: '100', placeholder: '倉渕', 'aria-label': `${it.label}の新しい選択肢の名前`, 'data-test': 'new-value-label' });
	const btn = h('button', { type: 'submit', class: 'secondary small' }, '選択肢を追加');
	const err = h('div', {});
	const form = h('form', { class: 'inline-form', novalidate: true }, label, key, btn, err);
	form.addEventListener('submit', async (e) => {
		e.preventDefault();
		clear(err);
		try {
			await post(`/api/segments/items/${it.id}/values`, { key: key.value.trim(), label: label.value.trim() });
			toast('選択肢を追加しました。');
			reload();
		} catch (x) {
			err.append(notice('error', x.message));
		}
	});
	return h('details', {}, h('summary', {}, '選択肢を追加する'), h('p', { class: 'help' }, '名前は住民に表示されます。キーは半角英小文字・数字・_ で、あとから変えられません。'), form);
}

function newItemForm(reload) {
	const key = h('input', { maxlength: '63', placeholder: 'hobby' });
	const label = h('input', { maxlength: '100', placeholder: '趣味', 'data-test': 'new-item-label' });
	const kind = h('select', {}, Object.entries(KIND).map(([k, l]) => h('option', { value: k }, l)));
	const unset = h('input', { type: 'checkbox', id: 'new-item-unset' });
	const desc = h('textarea', { rows: '2' });
	const err = h('div', {});
	const form = h(
		'form',
		{ class: 'card', novalidate: true },
		h('h2', {}, '項目を追加'),
		field('項目名（住民に表示）', label),
		field('キー', key, '半角英小文字・数字・_。配信の条件やメール連携のルールで使う名前で、あとから変えられません。'),
		field('選び方', kind),
		h('p', { class: 'check' }, unset, h('label', { for: 'new-item-unset' }, '選んでいない人には、すべての選択肢に当てはまるものとして送る')),
		field('説明（任意・住民に表示）', desc),
		err,
		h('button', { type: 'submit', class: 'primary' }, '項目を追加'),
	);
	form.addEventListener('submit', async (e) => {
		e.preventDefault();
		clear(err);
		try {
			await post('/api/segments/items', {
				key: key.value.trim(),
				label: label.value.trim(),
				kind: kind.value,
				match_when_unset: unset.checked,
				description: desc.value.trim() || null,
			});
			toast('項目を追加しました。');
			form.reset();
			reload();
		} catch (x) {
			err.append(notice('error', x.message));
		}
	});
	return form;
}
