// settings.js — 設定: whether a delivery needs a second staff member's
// approval (管理者 change it), and changing one's own password.
import { get, post, put } from './api.js';
import { clear, field, h, notice, toast } from './dom.js';

export async function renderSettings(view, ctx) {
	const admin = ctx.me.role === 'admin';
	const approval = h('input', { type: 'checkbox', id: 'approval', disabled: !admin, 'data-test': 'approval' });
	const out = h('div', { 'aria-live': 'polite' });
	const sec = h(
		'section',
		{ class: 'card' },
		h('h2', {}, '配信の承認'),
		h('p', { class: 'check' }, approval, h('label', { for: 'approval' }, '配信の前に、別の職員の承認を必要にする')),
		h('p', { class: 'help' }, 'オンにすると、職員が作った配信は「承認待ち」になり、作成者以外の職員が配信履歴で「承認」を押すと送信されます。メール連携の配信には適用されません。' + (admin ? '' : '（変更できるのは管理者だけです）')),
		out,
	);
	view.append(sec, passwordForm());
	try {
		const r = await get('/api/settings/approval');
		approval.checked = Boolean(r.required);
	} catch (e) {
		out.append(notice('error', e.message));
	}
	approval.addEventListener('change', async () => {
		clear(out);
		try {
			await put('/api/settings/approval', { required: approval.checked });
			toast(approval.checked ? '承認を必要にしました。' : '承認を不要にしました。');
		} catch (e) {
			approval.checked = !approval.checked;
			out.append(notice('error', e.message));
		}
	});
}

function passwordForm() {
	const cur = h('input', { type: 'password', autocomplete: 'current-password' });
	const nw = h('input', { type: 'password', autocomplete: 'new-password', minlength: '12' });
	const again = h('input', { type: 'password', autocomplete: 'new-password' });
	const out = h('div', { 'aria-live': 'polite' });
	const form = h(
		'form',
		{ class: 'card', novalidate: true },
		h('h2', {}, '自分のパスワードを変更'),
		field('今のパスワード', cur),
		field('新しいパスワード', nw, '12文字以上。ほかのサービスと同じものは使わないでください。'),
		field('新しいパスワード（確認）', again),
		out,
		h('button', { type: 'submit', class: 'primary' }, '変更'),
	);
	form.addEventListener('submit', async (e) => {
		e.preventDefault();
		clear(out);
		if (nw.value !== again.value) {
			out.append(notice('error', '新しいパスワードが確認用と一致しません。'));
			return;
		}
		try {
			await post('/api/me/password', { current: cur.value, new: nw.value });
			form.reset();
			out.append(notice('ok', 'パスワードを変更しました。'));
		} catch (x) {
			out.append(notice('error', x.message));
		}
	});
	return form;
}
