// mail.js — メール連携: the rules that turn 安心ほっとメール into LINE
// deliveries (管理者 edit them), a test panel that runs a pasted mail
// through the rules on screen (saved or not: the same code as `hotlinectl
// rules test`), and the log of received mail with the original as a
// download.
import { download, get, post, put, qs } from './api.js';
import { clear, confirmDialog, field, h, newId, notice, showDialog, table, toast, when } from './dom.js';
import { renderMessages } from './preview.js';
import { statusBadge } from './history.js';

const KIND = {
	sender_allow: '送信元の許可',
	strip: '文字を取り除く',
	append: '文字を付け足す',
	keyword: 'キーワードで送り先を決める',
	fallback: '送り先が決まらないとき',
};
const KIND_HELP = {
	sender_allow: 'エンベロープの差出人（MAIL FROM）がアドレス全体でこのパターンに合うメールだけを配信します（大文字・小文字は区別しません）。このルールが1つもなければ、すべての差出人を受け付けます。',
	strip: '件名か本文から、パターンに合う部分（署名、配信停止の案内など）を取り除きます。',
	append: '件名か本文の先頭か末尾に、決まった文を付け足します。',
	keyword: 'パターンの ( ) で取り出した語（例：倉渕）を、セグメントの選択肢に対応させます。',
	fallback: 'キーワードで送り先が決まらなかったときの扱いです（全員、決めた条件、保留）。このルールがないときは保留になります。',
};
const PART = { subject: '件名', body: '本文' };
const MAIL_STATUS = { received: ['受信', 'blue'], queued: ['配信へ', 'green'], held: ['保留', 'amber'], ignored: ['対象外', 'grey'], failed: ['失敗', 'red'] };

export async function renderMail(view, ctx) {
	const admin = ctx.me.role === 'admin';
	const tabs = h('div', { class: 'tabs', role: 'tablist' });
	const panel = h('div', { class: 'tab-panel' });
	const parts = [
		['log', '受信したメール', () => mailLog(panel)],
		['test', 'ルールの試験', () => testPanel(panel, editorState)],
	];
	if (admin) parts.unshift(['rules', 'ルールの編集', () => rulesEditor(panel, editorState)]);
	const editorState = { rules: null, items: [] };
	for (const [key, label, draw] of parts) {
		const b = h('button', { type: 'button', role: 'tab', class: 'tab', 'data-tab': key }, label);
		b.addEventListener('click', () => {
			for (const x of tabs.children) x.setAttribute('aria-selected', String(x === b));
			clear(panel);
			draw();
		});
		tabs.append(b);
	}
	view.append(h('p', { class: 'lead' }, '市のメール配信（安心ほっとメール）を LINE に送るしくみです。'), tabs, panel);
	const wanted = new URLSearchParams(location.hash.split('?')[1] || '');
	const first = wanted.get('id') ? tabs.querySelector('[data-tab="log"]') : tabs.firstChild;
	first.click();
	if (wanted.get('id')) mailDetail(Number(wanted.get('id')));
}

// --- the mail log ---------------------------------------------------------

function mailLog(panel) {
	const q = h('input', { type: 'search', placeholder: '件名・差出人で検索', 'aria-label': '検索' });
	const st = h('select', { 'aria-label': '状態' }, h('option', { value: '' }, 'すべての状態'), Object.entries(MAIL_STATUS).map(([k, [l]]) => h('option', { value: k }, l)));
	const go = h('button', { type: 'submit', class: 'secondary' }, '検索');
	const list = h('div', { 'data-test': 'mail-list' });
	const form = h('form', { class: 'filters' }, q, st, go);
	panel.append(form, list);
	async function load() {
		try {
			const r = await get('/api/mails' + qs({ q: q.value.trim(), status: st.value }));
			clear(list).append(
				table(
					[
						{ label: '受信日時', cell: (m) => when(m.received_at) },
						{ label: '経路', cell: (m) => ({ lmtp: 'LMTP', milter: 'ミルター', imap: 'IMAP' })[m.via] || m.via || '—' },
						{ label: '差出人', cell: (m) => m.from || '—' },
						{ label: '件名', cell: (m) => h('span', { 'data-test': 'mail-subject' }, m.subject || '（件名なし）'), class: 'wide' },
						{ label: '状態', cell: (m) => mailBadge(m.status) },
						{ label: '配信', cell: (m) => (m.delivery_id ? h('span', {}, `番号 ${m.delivery_id} `, statusBadge(m.delivery_status)) : '—') },
						{
							label: '操作',
							cell: (m) => {
								const b = h('button', { type: 'button', class: 'link' }, '詳細');
								b.addEventListener('click', () => mailDetail(m.id));
								return b;
							},
						},
					],
					r.items || [],
					{ empty: '受信したメールはありません。' },
				),
			);
		} catch (e) {
			clear(list).append(notice('error', e.message));
		}
	}
	form.addEventListener('submit', (e) => {
		e.preventDefault();
		load();
	});
	load();
}

function mailBadge(s) {
	const [l, c] = MAIL_STATUS[s] || [s || '—', 'grey'];
	return h('span', { class: ['badge', c] }, l);
}

async function mailDetail(id) {
	let m;
	try {
		m = await get(`/api/mails/${id}`);
	} catch (e) {
		toast(e.message, 'error');
		return;
	}
	const raw = h('button', { type: 'button', class: 'secondary small' }, '元のメールをダウンロード');
	raw.addEventListener('click', () => download(`/api/mails/${id}/raw`));
	showDialog(`メール ${m.id}：${m.subject || '（件名なし）'}`, [
		h(
			'dl',
			{ class: 'summary' },
			h('dt', {}, '受信日時'),
			h('dd', {}, when(m.received_at)),
			h('dt', {}, '差出人'),
			h('dd', {}, m.from || '—'),
			h('dt', {}, '状態'),
			h('dd', {}, mailBadge(m.status), m.error ? ` ${m.error}` : ''),
			h('dt', {}, '配信'),
			h('dd', {}, m.delivery_id ? h('a', { href: '#/history' }, `番号 ${m.delivery_id}`) : '—'),
		),
		h('h3', {}, '本文（デコード後）'),
		h('pre', { class: 'mail-body' }, m.decoded_body || ''),
		m.rule_trace ? [h('h3', {}, '適用されたルール'), trace(m.rule_trace)] : null,
		h('p', { class: 'help' }, '元のメールはテキストファイルとして保存されます（画面には表示しません）。ダウンロードは監査ログに記録されます。'),
		raw,
	]);
}

// The rule trace (lib/rules): one entry per rule, {rule, kind, name,
// matched, disabled, captures…}; shown as one line each.
function trace(t) {
	if (!Array.isArray(t)) return h('pre', { class: 'mail-body' }, JSON.stringify(t, null, 2));
	return h(
		'ol',
		{ class: 'trace' },
		t.map((x) => {
			if (typeof x !== 'object' || x === null) return h('li', {}, String(x));
			const { rule, kind, name, matched, disabled, index, ...rest } = x;
			const what = disabled ? '無効' : matched ? '一致' : '一致せず';
			const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
			return h('li', { class: matched ? 'matched' : '' }, `${name || KIND[kind] || kind || ''}：${what}`, h('span', { class: 'muted' }, extra));
		}),
	);
}

// --- the test panel -------------------------------------------------------

function testPanel(panel, state) {
	const raw = h('textarea', { rows: '14', class: 'mono', placeholder: 'From: anshin-hot@…\nSubject: 【防犯】…\n\n本文…', 'data-test': 'raw-mail' });
	const useDraft = h('input', { type: 'checkbox', id: newId('draft') });
	const run = h('button', { type: 'button', class: 'primary', 'data-test': 'run-test' }, '試す');
	const out = h('div', { class: 'test-out', 'aria-live': 'polite', 'data-test': 'test-out' });
	panel.append(
		h('p', { class: 'help' }, 'メールのソース（ヘッダーから本文まで）を貼り付けて「試す」を押すと、LINE に送られる文章と送り先が表示されます。実際には送られません。'),
		field('メール', raw),
		state.rules ? h('p', { class: 'check' }, useDraft, h('label', { for: useDraft.id }, '保存していない編集中のルールで試す')) : null,
		run,
		out,
	);
	run.addEventListener('click', async () => {
		clear(out);
		if (!raw.value.trim()) {
			out.append(notice('error', 'メールを貼り付けてください。'));
			return;
		}
		const req = { raw: raw.value };
		if (useDraft.checked && state.rules) req.rules = state.rules.map((r, i) => ({ ...r, position: i + 1 }));
		try {
			const r = await post('/api/mail-rules/test', req);
			const pv = h('div', { class: 'preview small' });
			renderMessages(pv, r.messages || []);
			out.append(
				r.held
					? notice('warn', `このメールは保留になります：${r.hold_reason || r.result_label || ''}`)
					: notice(r.result === 'send' ? 'ok' : 'warn', r.result_label || '配信されます。'),
				h(
					'dl',
					{ class: 'summary' },
					h('dt', {}, '送り先'),
					h('dd', { 'data-test': 'test-target' }, r.everyone ? '友だち全員' : r.target_label || '—'),
					h('dt', {}, '件名'),
					h('dd', {}, (r.decoded && r.decoded.subject) || '—'),
				),
				h('h3', {}, 'LINE での見え方'),
				pv,
				r.trace ? [h('h3', {}, 'ルールの適用結果'), trace(r.trace)] : null,
			);
		} catch (e) {
			out.append(notice('error', e.message));
		}
	});
}

// --- the rules editor (管理者) ----------------------------------------------

async function rulesEditor(panel, state) {
	let r;
	let segs;
	try {
		[r, segs] = await Promise.all([get('/api/mail-rules'), get('/api/segments')]);
	} catch (e) {
		panel.append(notice('error', e.message));
		return;
	}
	state.items = (r.items || segs.items || []).filter((i) => i.kind !== 'date');
	if (!state.rules) state.rules = structuredClone(r.rules || []);
	const list = h('div', { class: 'rules' });
	const save = h('button', { type: 'button', class: 'primary', 'data-test': 'save-rules' }, 'ルールを保存');
	const reset = h('button', { type: 'button', class: 'secondary' }, '編集を取り消す');
	const add = h('select', { 'aria-label': 'ルールを追加', 'data-test': 'add-rule' }, h('option', { value: '' }, '＋ ルールを追加…'), Object.entries(KIND).map(([k, l]) => h('option', { value: k }, l)));
	const msg = h('div', { 'aria-live': 'polite', 'data-test': 'rules-result' });
	panel.append(
		h('p', { class: 'help' }, 'ルールは上から順に適用されます。保存すると次に届くメールから使われます。保存の前に「ルールの試験」で確かめられます。'),
		list,
		h('div', { class: 'buttons' }, add, reset, save),
		msg,
	);
	function draw() {
		clear(list);
		state.rules.forEach((rule, i) => list.append(ruleCard(rule, i)));
		if (!state.rules.length) list.append(h('p', { class: 'empty' }, 'ルールはありません。送り先を決めるルールがないため、届いたメールは保留になり、職員の確認を待ちます。'));
	}
	function ruleCard(rule, i) {
		const card = h('section', { class: ['card', 'rule', rule.enabled === false && 'disabled'], 'data-test': 'rule' });
		const name = h('input', { value: rule.name || '', maxlength: '200', 'data-test': 'rule-name' });
		name.addEventListener('input', () => (rule.name = name.value));
		const enabled = h('input', { type: 'checkbox', id: newId('en'), checked: rule.enabled !== false });
		enabled.addEventListener('change', () => (rule.enabled = enabled.checked));
		const up = h('button', { type: 'button', class: 'link', 'aria-label': '上へ', disabled: i === 0 }, '↑');
		const down = h('button', { type: 'button', class: 'link', 'aria-label': '下へ', disabled: i === state.rules.length - 1 }, '↓');
		const del = h('button', { type: 'button', class: 'link danger' }, '削除');
		up.addEventListener('click', () => move(i, -1));
		down.addEventListener('click', () => move(i, 1));
		del.addEventListener('click', () => {
			state.rules.splice(i, 1);
			draw();
		});
		card.append(
			h('header', {}, h('h3', {}, `${i + 1}. ${KIND[rule.kind] || rule.kind}`), h('span', { class: 'row-actions' }, up, down, del)),
			h('p', { class: 'help' }, KIND_HELP[rule.kind] || ''),
			field('名前（メモ）', name),
			h('p', { class: 'check' }, enabled, h('label', { for: enabled.id }, '有効')),
		);
		const txt = (key, label, help, multi) => {
			const el = h(multi ? 'textarea' : 'input', { class: key === 'pattern' ? 'mono' : '', rows: multi ? '3' : null, 'data-test': `rule-${key}` });
			el.value = rule[key] || '';
			el.addEventListener('input', () => (rule[key] = el.value));
			card.append(field(label, el, help));
		};
		const sel = (key, label, options) => {
			const el = h('select', { 'data-test': `rule-${key}` }, Object.entries(options).map(([k, l]) => h('option', { value: k }, l)));
			if (rule[key] === undefined || rule[key] === null) rule[key] = Object.keys(options)[0];
			el.value = rule[key];
			el.addEventListener('change', () => {
				rule[key] = el.value;
				if (key === 'target_item_id' || key === 'fallback_action') draw();
			});
			card.append(field(label, el));
		};
		if (['strip', 'append', 'keyword'].includes(rule.kind)) sel('part', '対象', PART);
		if (['strip', 'keyword', 'sender_allow'].includes(rule.kind))
			txt('pattern', 'パターン（正規表現）', rule.kind === 'keyword' ? '例：【(\\S+?)地区】 — ( ) の中がキーワードになります。' : '正規表現（PCRE2）で書きます。', false);
		if (rule.kind === 'append') {
			txt('text', '付け足す文', '', true);
			sel('placement', '位置', { head: '先頭', tail: '末尾' });
		}
		if (rule.kind === 'keyword') keywordValues(card, rule);
		if (rule.kind === 'fallback') {
			sel('fallback_action', '扱い', { hold: '保留して職員が確認する', everyone: '友だち全員に送る', segment: '決めた条件で送る' });
			if (rule.fallback_action === 'segment') {
				const t = h('textarea', { class: 'mono', rows: '3' });
				t.value = rule.fallback_target ? JSON.stringify(rule.fallback_target) : '{"all": []}';
				t.addEventListener('change', () => {
					try {
						rule.fallback_target = JSON.parse(t.value);
						t.setCustomValidity('');
					} catch {
						t.setCustomValidity('JSON の形が正しくありません。');
						t.reportValidity();
					}
				});
				card.append(field('条件（JSON）', t, '例：{"all":[{"item":"region","any":["kurabuchi"]}]}'));
			}
		}
		return card;
	}
	// A keyword rule names its segment item by key ("item") and maps each
	// keyword to a value key ("value") or to everyone (docs/api.md).
	function keywordValues(card, rule) {
		if (!rule.item && state.items.length) rule.item = state.items[0].key;
		const itemSel = h('select', {}, state.items.map((i) => h('option', { value: i.key }, i.label)));
		itemSel.value = rule.item;
		itemSel.addEventListener('change', () => {
			rule.item = itemSel.value;
			rule.values = [];
			draw();
		});
		card.append(field('送り先の項目', itemSel));
		const item = state.items.find((i) => i.key === rule.item);
		const choices = item ? (item.values || []).filter((x) => !x.retired) : [];
		rule.values = rule.values || [];
		const rows = h('div', { class: 'kw-values' });
		rule.values.forEach((v, j) => {
			const kw = h('input', { value: v.keyword || '', 'aria-label': 'キーワード' });
			kw.addEventListener('input', () => (v.keyword = kw.value));
			const to = h('select', { 'aria-label': '対応する選択肢' }, h('option', { value: '' }, '全域（友だち全員）'), choices.map((x) => h('option', { value: x.key }, x.label)));
			to.value = v.everyone ? '' : v.value || '';
			to.addEventListener('change', () => {
				v.everyone = to.value === '';
				if (v.everyone) delete v.value;
				else v.value = to.value;
			});
			const rm = h('button', { type: 'button', class: 'link danger' }, '削除');
			rm.addEventListener('click', () => {
				rule.values.splice(j, 1);
				draw();
			});
			rows.append(h('div', { class: 'kw-row' }, kw, ' → ', to, rm));
		});
		const addV = h('button', { type: 'button', class: 'secondary small' }, '＋ キーワードを追加');
		addV.addEventListener('click', () => {
			const first = choices[0];
			rule.values.push(first ? { keyword: '', value: first.key, everyone: false } : { keyword: '', everyone: true });
			draw();
		});
		card.append(h('h4', {}, 'キーワードと選択肢'), rows, addV);
	}
	function move(i, d) {
		const [x] = state.rules.splice(i, 1);
		state.rules.splice(i + d, 0, x);
		draw();
	}
	add.addEventListener('change', () => {
		if (!add.value) return;
		state.rules.push({ kind: add.value, name: '', enabled: true });
		add.value = '';
		draw();
	});
	reset.addEventListener('click', () => {
		state.rules = structuredClone(r.rules || []);
		draw();
	});
	save.addEventListener('click', async () => {
		clear(msg);
		const ok = await confirmDialog({ title: 'ルールを保存しますか？', body: [h('p', {}, '次に届くメールから新しいルールが使われます。変更は監査ログに記録されます。')], ok: '保存' });
		if (!ok) return;
		try {
			const res = await put('/api/mail-rules', { rules: state.rules.map((x, i) => ({ ...x, position: i + 1 })) });
			if (res && res.rules) {
				r = res;
				state.rules = structuredClone(res.rules);
				draw();
			}
			msg.append(notice('ok', '保存しました。'));
		} catch (e) {
			msg.append(notice('error', e.message));
		}
	});
	draw();
}
