// preview.js — what residents will see in LINE, drawn from the LINE
// message objects the server built (POST /api/deliveries/preview): text
// messages as chat bubbles, Flex bubbles as cards.  Only the parts of Flex
// that lib/message produces are drawn faithfully; anything else shows as a
// plain box.  All text goes in with textContent; colours from the message
// are checked to be #RRGGBB before they are used.
import { clear, h } from './dom.js';

const COLOR = /^#[0-9A-Fa-f]{6}([0-9A-Fa-f]{2})?$/;

function setColor(el, prop, c) {
	if (typeof c === 'string' && COLOR.test(c)) el.style[prop] = c; // CSSOM, allowed by the CSP
}

// Text with https links made clickable (as LINE does), all as text nodes.
function linked(text) {
	const out = [];
	const re = /https:\/\/[^\s<>"「」、。]+/g;
	let last = 0;
	for (const m of text.matchAll(re)) {
		if (m.index > last) out.push(text.slice(last, m.index));
		out.push(h('a', { href: m[0], target: '_blank', rel: 'noopener noreferrer' }, m[0]));
		last = m.index + m[0].length;
	}
	if (last < text.length) out.push(text.slice(last));
	return out;
}

function flexNode(n, depth) {
	if (!n || typeof n !== 'object' || depth > 12) return null;
	switch (n.type) {
		case 'box': {
			const el = h('div', { class: ['fx-box', `fx-${n.layout || 'vertical'}`] });
			setColor(el, 'backgroundColor', n.backgroundColor);
			for (const c of n.contents || []) {
				const k = flexNode(c, depth + 1);
				if (k) el.append(k);
			}
			return el;
		}
		case 'text': {
			const el = h('p', { class: ['fx-text', n.weight === 'bold' && 'bold', n.size && `size-${n.size}`, n.wrap && 'wrap'] }, n.text || '');
			setColor(el, 'color', n.color);
			return el;
		}
		case 'button': {
			const a = n.action || {};
			const el = h('span', { class: ['fx-button', n.style || 'link'] }, a.label || '');
			if (n.style === 'primary') setColor(el, 'backgroundColor', n.color);
			else setColor(el, 'color', n.color);
			if (a.type === 'uri' && typeof a.uri === 'string') el.title = a.uri;
			return el;
		}
		case 'separator':
			return h('hr', { class: 'fx-separator' });
		case 'spacer':
			return h('div', { class: 'fx-spacer' });
		default:
			return h('div', { class: 'fx-other' }, `（${n.type || '不明'}）`);
	}
}

function bubble(b) {
	const card = h('div', { class: 'fx-bubble' });
	for (const part of ['header', 'hero', 'body', 'footer']) {
		if (!b[part]) continue;
		const sec = h('div', { class: `fx-${part}` }, flexNode(b[part], 0));
		const style = b.styles && b.styles[part];
		if (style) setColor(sec, 'backgroundColor', style.backgroundColor);
		card.append(sec);
	}
	return card;
}

export function renderMessages(box, messages) {
	clear(box);
	const chat = h('div', { class: 'line-chat' }, h('div', { class: 'line-bar' }, '高崎市（公式）'));
	if (!messages || !messages.length) {
		chat.append(h('p', { class: 'line-empty' }, 'タイトルか本文を入力すると、ここに LINE での見え方が表示されます。'));
	}
	for (const m of messages || []) {
		const row = h('div', { class: 'line-row' }, h('div', { class: 'line-icon', 'aria-hidden': 'true' }, '市'));
		if (m.type === 'text') row.append(h('div', { class: 'line-bubble' }, linked(m.text || '')));
		else if (m.type === 'flex' && m.contents && m.contents.type === 'bubble') row.append(bubble(m.contents));
		else if (m.type === 'flex' && m.contents && m.contents.type === 'carousel')
			row.append(h('div', { class: 'fx-carousel' }, (m.contents.contents || []).map(bubble)));
		else row.append(h('div', { class: 'line-bubble other' }, `（${m.type} メッセージ）`));
		chat.append(row);
	}
	box.append(chat);
}
