// compose.js — 配信作成: the draft form, a LINE-like preview built by the
// server, the target builder (全員, or segment conditions joined by AND/OR)
// with a live recipient count, and テスト送信 / 今すぐ送信 / 予約送信, each
// confirmed in a dialog that states how many residents it reaches.
import { post, get } from './api.js';
import { clear, confirmDialog, debounce, field, h, newId, notice, num, toast } from './dom.js';
import { renderMessages } from './preview.js';

const isAdmin = (me) => me.role === 'admin';

export async function renderCompose(view, ctx) {
	const me = ctx.me;
	let segs = { items: [] };
	try {
		segs = await get('/api/segments');
	} catch (e) {
		view.append(notice('error', `セグメントを読み込めません：${e.message}`));
	}
	const items = (segs.items || []).filter((i) => !i.retired);
	const categoryItem = items.find((i) => i.key === 'category');

	// --- the message ------------------------------------------------------
	const title = h('input', { name: 'title', maxlength: '200', 'data-test': 'title' });
	const body = h('textarea', { name: 'body', rows: '8', 'data-test': 'body' });
	const styleText = h('input', { type: 'radio', name: 'style', value: 'text', id: 'style-text', checked: true });
	const styleCard = h('input', { type: 'radio', name: 'style', value: 'card', id: 'style-card' });
	const category = h('select', { name: 'category', 'data-test': 'category' }, h('option', { value: '' }, '（指定しない：その他）'));
	if (categoryItem)
		for (const v of categoryItem.values.filter((x) => !x.retired)) category.append(h('option', { value: v.key }, v.label));
	const linkUrl = h('input', { name: 'link_url', type: 'url', placeholder: 'https://www.city.takasaki.gunma.jp/…', 'data-test': 'link-url' });
	const linkLabel = h('input', { name: 'link_label', maxlength: '40', placeholder: '詳しく見る' });

	const message = h(
		'fieldset',
		{ class: 'card' },
		h('legend', {}, '1. 内容'),
		field('タイトル', title, 'カードでは太字の見出し、テキストでは1行目になります。'),
		h(
			'div',
			{ class: 'field' },
			h('span', { class: 'label' }, '形式'),
			h(
				'div',
				{ class: 'choices', role: 'radiogroup', 'aria-label': '形式' },
				h('label', { class: 'choice' }, styleText, 'テキスト'),
				h('label', { class: 'choice' }, styleCard, 'カード（色付きの見出しとボタン）'),
			),
		),
		field('分類', category, 'カードの見出しの色と文字になります。'),
		field('本文', body, '長い本文は LINE の上限に合わせて自動で分けて送られます。'),
		field('リンク（任意）', linkUrl, 'https:// で始まる市のページなど。'),
		field('リンクの文字（任意）', linkLabel, 'カードのボタンやリンクの前に表示されます。空なら「詳しく見る」。ボタンでは20文字を超える分は省略されます。'),
	);

	// --- the target -------------------------------------------------------
	const everyone = h('input', { type: 'radio', name: 'target-mode', value: 'everyone', id: 'target-everyone', 'data-test': 'target-everyone' });
	const bySegment = h('input', { type: 'radio', name: 'target-mode', value: 'segment', id: 'target-segment', checked: true, 'data-test': 'target-segment' });
	const join = h('select', { 'data-test': 'join', 'aria-label': '条件の組み合わせ' }, h('option', { value: 'all' }, 'すべての条件に当てはまる人（AND）'), h('option', { value: 'any' }, 'いずれかの条件に当てはまる人（OR）'));
	if (!isAdmin(me)) join.disabled = true;
	const conds = h('div', { class: 'conditions', 'data-test': 'conditions' });
	const addBtn = h('button', { type: 'button', class: 'secondary', 'data-test': 'add-condition' }, '＋ 条件を追加');
	const countBox = h('p', { class: 'count', 'aria-live': 'polite', 'data-test': 'count' }, '—');
	const segPart = h('div', { class: 'segment-part' }, h('div', { class: 'field' }, join), conds, addBtn);
	const target = h(
		'fieldset',
		{ class: 'card' },
		h('legend', {}, '2. 送る相手'),
		h(
			'div',
			{ class: 'choices' },
			isAdmin(me) ? h('label', { class: 'choice' }, everyone, '友だち全員') : null,
			h('label', { class: 'choice' }, bySegment, '条件で絞り込む'),
		),
		isAdmin(me)
			? null
			: h('p', { class: 'help' }, '一般職員は、担当のセグメント（「担当」と表示された選択肢）を含む条件でのみ送れます。ほかの条件は対象をさらに絞り込むときに使えます。'),
		segPart,
		h('div', { class: 'count-row' }, h('span', {}, '対象の人数：'), countBox),
	);

	function addCondition() {
		const itemSel = h('select', { 'aria-label': '項目', 'data-test': 'cond-item' }, items.map((i) => h('option', { value: i.key }, i.label)));
		const valuesBox = h('div', { class: 'values' });
		const remove = h('button', { type: 'button', class: 'link danger', 'aria-label': 'この条件を削除' }, '削除');
		const row = h('div', { class: 'condition', 'data-test': 'condition' }, h('div', { class: 'cond-head' }, itemSel, remove), valuesBox);
		function drawValues() {
			clear(valuesBox);
			const it = items.find((i) => i.key === itemSel.value);
			if (!it) return;
			if (it.kind === 'date') {
				const min = h('input', { type: 'number', min: '0', max: '120', value: '0', class: 'age', 'aria-label': '何歳から' });
				const max = h('input', { type: 'number', min: '0', max: '120', value: '6', class: 'age', 'aria-label': '何歳まで' });
				valuesBox.append(h('p', { class: 'age-row' }, `${it.label}が `, min, ' 歳から ', max, ' 歳まで（送る日の満年齢）'));
				for (const x of [min, max]) x.addEventListener('input', changed);
				row.read = () => ({ item: it.key, age_between: [Number(min.value), Number(max.value)] });
				row.describe = () => `${it.label}：${min.value}〜${max.value}歳`;
				return;
			}
			const boxes = [];
			for (const v of it.values.filter((x) => !x.retired)) {
				const id = newId('v');
				const cb = h('input', { type: 'checkbox', id, value: v.key, 'data-key': v.key });
				cb.addEventListener('change', changed);
				boxes.push({ cb, v });
				valuesBox.append(
					h(
						'label',
						{ class: ['value', v.in_scope === false && 'out-of-scope'], for: id },
						cb,
						v.label,
						v.in_scope === true ? h('span', { class: 'badge scope' }, '担当') : null,
						typeof v.residents === 'number' ? h('span', { class: 'muted' }, `（${num(v.residents)}人）`) : null,
					),
				);
			}
			valuesBox.append(h('p', { class: 'help' }, 'チェックした選択肢のどれかに当てはまる人（OR）が対象です。' + (it.match_when_unset ? 'この項目を選んでいない人は、すべての選択肢に当てはまる扱いになります。' : '')));
			row.read = () => ({ item: it.key, any: boxes.filter((b) => b.cb.checked).map((b) => b.v.key) });
			row.describe = () => `${it.label}：${boxes.filter((b) => b.cb.checked).map((b) => b.v.label).join('・') || '（未選択）'}`;
		}
		itemSel.addEventListener('change', () => {
			drawValues();
			changed();
		});
		remove.addEventListener('click', () => {
			row.remove();
			changed();
		});
		conds.append(row);
		drawValues();
		return row;
	}
	addBtn.addEventListener('click', () => {
		addCondition();
		changed();
	});
	if (items.length) addCondition();
	else segPart.append(notice('warn', 'セグメントがありません。セグメント管理で項目を作ってください。'));

	// The target as the API takes it, or an error text for staff.
	function readTarget() {
		if (everyone.checked) return { everyone: true, target: null, label: '友だち全員' };
		const rows = [...conds.querySelectorAll('.condition')].filter((r) => r.read);
		const parts = rows.map((r) => r.read());
		if (!parts.length) return { error: '条件を1つ以上追加してください。' };
		if (parts.some((p) => p.any && !p.any.length)) return { error: '各条件で選択肢を1つ以上チェックしてください。' };
		const key = isAdmin(me) ? join.value : 'all';
		const word = key === 'all' ? ' かつ ' : ' または ';
		return { everyone: false, target: { [key]: parts }, label: rows.map((r) => r.describe()).join(word) };
	}

	// --- when and how -----------------------------------------------------
	const sendAt = h('input', { type: 'datetime-local', 'data-test': 'send-at' });
	const testBtn = h('button', { type: 'button', class: 'secondary', 'data-test': 'send-test' }, 'テスト送信');
	const nowBtn = h('button', { type: 'button', class: 'primary', 'data-test': 'send-now' }, '今すぐ送信');
	const laterBtn = h('button', { type: 'button', class: 'primary', 'data-test': 'send-later' }, '予約送信');
	const result = h('div', { class: 'result', 'aria-live': 'polite', 'data-test': 'result' });
	const actions = h(
		'fieldset',
		{ class: 'card' },
		h('legend', {}, '3. 送信'),
		h('p', { class: 'help' }, 'まず「テスト送信」で、テスト受信者（職員のスマートフォン）に届く見え方を確認してください。'),
		h('div', { class: 'buttons' }, testBtn, nowBtn),
		h('div', { class: 'schedule' }, field('予約する日時（日本時間）', sendAt, '未来の日時を選んで「予約送信」を押します。予約は配信履歴から取り消せます。'), laterBtn),
		result,
	);

	// --- preview and count ------------------------------------------------
	const previewBox = h('div', { class: 'preview', 'data-test': 'preview' });
	const previewNote = h('p', { class: 'help', 'aria-live': 'polite' });
	renderMessages(previewBox, []);

	const layout = h(
		'div',
		{ class: 'compose' },
		h('form', { class: 'compose-form', novalidate: true, onsubmit: (e) => e.preventDefault() }, message, target, actions),
		h('aside', { class: 'compose-preview', 'aria-label': 'プレビュー' }, h('h2', {}, 'LINE での見え方'), previewBox, previewNote),
	);
	view.append(layout);

	function draft(sendAtValue) {
		const t = readTarget();
		return {
			title: title.value,
			style: styleCard.checked ? 'card' : 'text',
			category: category.value || null,
			body: body.value,
			link_url: linkUrl.value.trim() || null,
			link_label: linkLabel.value.trim() || null,
			everyone: Boolean(t.everyone),
			target: t.target || null,
			send_at: sendAtValue || null,
		};
	}

	let countSeq = 0;
	let lastCount = null;
	const refreshCount = debounce(async () => {
		const t = readTarget();
		const seq = ++countSeq;
		if (t.error) {
			lastCount = null;
			countBox.textContent = t.error;
			countBox.className = 'count warn';
			return;
		}
		countBox.textContent = '数えています…';
		try {
			const r = await post('/api/deliveries/count', { everyone: t.everyone, target: t.target });
			if (seq !== countSeq) return;
			lastCount = r.count;
			countBox.textContent = `${num(r.count)} 人`;
			countBox.className = 'count';
			countBox.dataset.count = String(r.count);
		} catch (e) {
			if (seq !== countSeq) return;
			lastCount = null;
			countBox.textContent = e.message;
			countBox.className = 'count error';
			delete countBox.dataset.count;
		}
	}, 300);

	let prevSeq = 0;
	const refreshPreview = debounce(async () => {
		const seq = ++prevSeq;
		if (!title.value.trim() && !body.value.trim()) {
			renderMessages(previewBox, []);
			previewNote.textContent = '';
			return;
		}
		try {
			// The messages do not depend on the target: an incomplete one is
			// left out (the preview takes none).
			const t = readTarget();
			const d = t.error ? { ...draft(), everyone: false, target: null } : draft();
			const r = await post('/api/deliveries/preview', d);
			if (seq !== prevSeq) return;
			renderMessages(previewBox, r.messages);
			previewNote.textContent = r.truncated ? '長すぎるため、一部が省略されます（最後に「続きは市のホームページ」の案内が付きます）。' : '';
		} catch (e) {
			if (seq !== prevSeq) return;
			previewNote.textContent = e.message;
		}
	}, 400);

	function changed() {
		segPart.hidden = everyone.checked;
		refreshCount();
	}
	for (const el of [title, body, linkUrl, linkLabel, category, styleText, styleCard]) {
		el.addEventListener('input', refreshPreview);
		el.addEventListener('change', refreshPreview);
	}
	for (const el of [everyone, bySegment, join]) el.addEventListener('change', changed);
	changed();

	function checkDraft() {
		if (!title.value.trim() && !body.value.trim()) return 'タイトルか本文を入力してください。';
		const t = readTarget();
		if (t.error) return t.error;
		return null;
	}

	function summary(d, extra) {
		const t = readTarget();
		return [
			h(
				'dl',
				{ class: 'summary' },
				h('dt', {}, 'タイトル'),
				h('dd', {}, d.title || '（なし）'),
				h('dt', {}, '送る相手'),
				h('dd', {}, t.label || ''),
				extra,
			),
		];
	}

	async function send(kind) {
		clear(result);
		const problem = checkDraft();
		if (problem) {
			result.append(notice('error', problem));
			return;
		}
		let at = null;
		if (kind === 'later') {
			if (!sendAt.value) {
				result.append(notice('error', '予約する日時を選んでください。'));
				sendAt.focus();
				return;
			}
			at = `${sendAt.value.length === 16 ? sendAt.value + ':00' : sendAt.value}+09:00`;
		}
		const d = draft(at);
		let ok;
		if (kind === 'test') {
			ok = await confirmDialog({
				title: 'テスト送信しますか？',
				body: [h('p', {}, 'テスト受信者として登録された人だけに、今すぐ届きます。住民には届きません。'), ...summary(d)],
				ok: 'テスト送信する',
			});
		} else {
			const count = lastCount === null ? '（人数を確認できません）' : `${num(lastCount)} 人`;
			ok = await confirmDialog({
				title: kind === 'now' ? '今すぐ送信しますか？' : '予約しますか？',
				body: [
					h('p', { class: 'big-count', 'data-test': 'confirm-count' }, `対象：${count}`),
					...summary(d, kind === 'later' ? [h('dt', {}, '送信日時'), h('dd', {}, `${sendAt.value.replace('T', ' ')}（日本時間）`)] : null),
					h('p', { class: 'help' }, kind === 'now' ? '送信を始めると取り消せません。' : '送信が始まる前なら、配信履歴から取り消せます。'),
				],
				ok: kind === 'now' ? `${count}に送信する` : '予約する',
				danger: kind === 'now',
			});
		}
		if (!ok) return;
		for (const b of [testBtn, nowBtn, laterBtn]) b.disabled = true;
		try {
			const r = await post(kind === 'test' ? '/api/deliveries/test' : '/api/deliveries', d);
			const dl = r.delivery || {};
			const msg =
				kind === 'test'
					? 'テスト送信を受け付けました。テスト受信者の LINE を確認してください。'
					: dl.status === 'pending_approval'
						? '承認待ちになりました。別の職員が配信履歴で承認すると送信されます。'
						: dl.status === 'scheduled'
							? '予約しました。配信履歴で確認・取り消しができます。'
							: '送信を受け付けました。配信履歴で進み具合を確認できます。';
			result.append(notice('ok', msg), h('p', {}, h('a', { href: '#/history', 'data-test': 'to-history' }, `配信履歴を見る（番号 ${dl.id ?? '—'}）`)));
			result.dataset.deliveryId = String(dl.id ?? '');
			toast(msg);
			// Sent or scheduled: empty the message so that it is not sent twice
			// by mistake (the target stays for the next one).
			if (kind !== 'test') {
				for (const el of [title, body, linkUrl, linkLabel, sendAt]) el.value = '';
				refreshPreview();
			}
		} catch (e) {
			result.append(notice('error', e.message));
			// A 400 "invalid" names the field: point at it.
			const control = { title, body, link_url: linkUrl, link_label: linkLabel, send_at: sendAt, category }[e.field];
			if (control) {
				control.setAttribute('aria-invalid', 'true');
				control.addEventListener('input', () => control.removeAttribute('aria-invalid'), { once: true });
				control.focus();
			}
		} finally {
			for (const b of [testBtn, nowBtn, laterBtn]) b.disabled = false;
		}
	}
	testBtn.addEventListener('click', () => send('test'));
	nowBtn.addEventListener('click', () => send('now'));
	laterBtn.addEventListener('click', () => send('later'));
}
