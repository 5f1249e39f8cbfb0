// The Telegram phone: the bot's messages as Telegram draws them, and a resident's taps and words sent as Updates.

import { actOnPhone, answered, readFileAsDataUrl, setupPhoneTools } from './api.js';
import { clock, el, icon, localImage, outLink, renderIfChanged, toast } from './dom.js';
import { deliveryMark, glyphText } from './glyphs.js';
import { pickLocation } from './places.js';

const phone = () => document.querySelector('[data-testid="telegram-phone"]');
const part = (name) => phone().querySelector(`[data-testid="${name}"]`);

let refresh = () => {};
let forceReply = null;
let reopened = null; // a one-time keyboard the resident used, then opened again
const announced = new Set(); // callback answers already shown as a toast
let seenAnswers = false; // answers that were there when the page opened are not news

// Telegram's HTML subset, already parsed on the server into plain data: no markup reaches the page.
const TAGS = { b: 'b', i: 'i', u: 'u', s: 's', code: 'code', pre: 'pre', blockquote: 'blockquote', spoiler: 'span', span: 'span', a: 'a' };

function renderNodes(nodes) {
  return (nodes || []).map((node) => {
    if (node.t === 'text') return glyphText(node.v);
    if (node.t === 'a') return outLink(node.href, renderNodes(node.c));
    const item = el(TAGS[node.t] || 'span', {}, renderNodes(node.c));
    if (node.t === 'spoiler') {
      item.className = 'spoiler';
      item.tabIndex = 0;
      item.setAttribute('role', 'button');
      item.setAttribute('aria-label', 'Hidden text: press to show');
      const reveal = () => item.classList.add('revealed');
      item.addEventListener('click', reveal);
      item.addEventListener('keydown', (event) => { if (event.key === 'Enter' || event.key === ' ') reveal(); });
    }
    return item;
  });
}

function act(path, body, describe) {
  return actOnPhone('telegram', part('tg-last'), path, body, describe, refresh);
}

export function setupTelegram(onChange) {
  refresh = onChange;
  setupPhoneTools('telegram', phone(), part('tg-last'), refresh);
  const form = part('tg-composer');
  const input = form.querySelector('input[name="text"]');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = '';
    const body = { text };
    if (forceReply) body.reply_to = forceReply.message_id;
    const result = await act('text', body, `message “${short(text)}”`);
    if (!result) input.value = text;
  });
  form.querySelector('[data-action="location"]').addEventListener('click', () => shareLocation(null));
  form.querySelector('[data-action="photo"]').addEventListener('change', async (event) => {
    const file = event.target.files[0];
    event.target.value = '';
    if (!file) return;
    const data = await readFileAsDataUrl(file);
    const caption = input.value.trim();
    input.value = '';
    await act('photo', { data, caption }, 'photo');
  });
}

async function shareLocation(keyboardMessage) {
  const place = await pickLocation('Share a location on Telegram');
  if (!place) return;
  await act('location', { latitude: place.latitude, longitude: place.longitude, keyboard_message: keyboardMessage },
    `location ${place.name || `${place.latitude}, ${place.longitude}`}`);
}

export function renderTelegram(data) {
  part('tg-status').textContent = data.typing ? `${data.typing.replace('_', ' ')}…` : `bot · you are ${data.user.first_name}`;
  part('tg-status').classList.toggle('typing', Boolean(data.typing));
  const banner = part('tg-banner');
  banner.hidden = data.webhook.registered;
  banner.textContent = 'Waiting for the app to register its Telegram webhook (setWebhook): until then nothing you send can reach it.';

  const offset = Date.now() / 1000 - data.now;
  const byId = new Map(data.timeline.filter((m) => m.from === 'bot').map((m) => [m.id, m]));
  renderIfChanged(part('tg-chat'), data.timeline, (timeline) => timeline.map((item) => (
    item.from === 'bot' ? botBubble(item, byId, offset) : residentEntry(item, byId, offset))));
  announceAnswers(data.timeline);

  forceReply = data.force_reply;
  const input = part('tg-composer').querySelector('input[name="text"]');
  input.placeholder = forceReply?.placeholder || data.keyboard?.placeholder || (forceReply ? 'Reply' : 'Message');
  renderKeyboard(data.keyboard);
}

function botBubble(message, byId, offset) {
  const parts = [];
  if (message.reply_to && byId.has(message.reply_to)) parts.push(quote(byId.get(message.reply_to)));
  if (message.kind === 'photo' && message.file) parts.push(localImage(message.file.url, 'Photo from the bot', 'bubble-photo'));
  if (message.kind === 'document' && message.file) {
    parts.push(el('a', { class: 'doc', href: message.file.url, download: message.file.name || 'file' }, icon('doc'), ` ${message.file.name || 'file'}`));
  }
  if (message.kind === 'location' && message.location) parts.push(locationCard(message.location));
  if (message.nodes?.some((n) => n.t !== 'text' || n.v)) parts.push(el('div', { class: 'bubble-text' }, renderNodes(message.nodes)));
  parts.push(el('span', { class: 'meta' }, message.edited ? 'edited · ' : '', clock(message.at + offset)));
  const bubble = el('article', { class: 'bubble bot', dataset: { testid: 'tg-bot-message', messageId: message.id } }, parts);
  if (!message.buttons?.length) return bubble;
  const keyboard = el('div', { class: 'inline-kb', role: 'group', 'aria-label': 'Message buttons' },
    message.buttons.map((row) => el('div', { class: 'kb-row' }, row.map((button) => inlineButton(message, button)))));
  return el('div', { class: 'bubble-group' }, bubble, keyboard);
}

function inlineButton(message, button) {
  if (button.url) return outLink(button.url, el('span', { class: 'kb-btn link' }, `${button.text} ↗`));
  if (button.data === undefined) {
    return el('button', { type: 'button', class: 'kb-btn', disabled: true, title: 'Not simulated in the sandbox' }, glyphText(button.text));
  }
  return el('button', {
    type: 'button',
    class: 'kb-btn',
    dataset: { testid: 'tg-inline-button' },
    onclick: async (event) => {
      event.currentTarget.classList.add('pending');
      await act('button', { message_id: message.id, data: button.data }, `button “${button.text}”`);
    },
  }, glyphText(button.text));
}

function residentEntry(item, byId, offset) {
  if (item.kind === 'button') {
    const outcome = item.error || answered(item.status);
    const bot = item.answered ? ` · bot answered${item.answer_text ? `: “${item.answer_text}”` : ''}` : ' · no answerCallbackQuery yet';
    return el('p', { class: 'service-line', dataset: { testid: 'tg-button-press' } },
      `You pressed “${item.text}” · ${outcome}${bot}`);
  }
  const parts = [];
  if (item.on_message && byId.has(item.on_message)) parts.push(quote(byId.get(item.on_message)));
  if (item.kind === 'location') parts.push(locationCard(item));
  if (item.kind === 'photo' && item.file) parts.push(localImage(item.file.url, 'Your photo', 'bubble-photo'));
  if (item.text) parts.push(el('div', { class: 'bubble-text' }, glyphText(item.text)));
  const ok = item.status >= 200 && item.status < 300;
  parts.push(el('span', { class: 'meta' }, clock(item.at + offset), ' ', deliveryMark(ok, item.error || answered(item.status))));
  return el('article', { class: 'bubble me', dataset: { testid: 'tg-my-message', status: item.status ?? '' } }, parts);
}

function quote(message) {
  const text = (message.nodes || []).map(flatten).join('') || (message.kind === 'photo' ? 'Photo' : message.kind);
  return el('blockquote', { class: 'quote' }, short(text, 80));
}

function flatten(node) {
  return node.t === 'text' ? node.v : (node.c || []).map(flatten).join('');
}

function locationCard(place) {
  return el('div', { class: 'map-card' }, icon('pin'),
    el('span', {}, place.text || 'Location', el('br'),
      el('small', {}, `${Number(place.latitude).toFixed(5)}, ${Number(place.longitude).toFixed(5)}`)));
}

function renderKeyboard(keyboard) {
  const box = part('tg-keyboard');
  if (!keyboard) {
    box.hidden = true;
    box.replaceChildren();
    box.dataset.rendered = '';
    return;
  }
  box.hidden = false;
  // Telegram folds a one-time keyboard away once used; the resident can open it again.
  const view = { ...keyboard, shown: !keyboard.used || reopened === keyboard.message_id };
  renderIfChanged(box, view, () => {
    if (!view.shown) {
      return el('button', { type: 'button', class: 'kb-toggle', onclick: () => { reopened = keyboard.message_id; renderKeyboard(keyboard); } },
        'Show the keyboard');
    }
    return keyboard.rows.map((row) => el('div', { class: 'kb-row' }, row.map((button) => replyButton(keyboard, button))));
  });
}

function replyButton(keyboard, button) {
  if (button.unsupported) {
    return el('button', { type: 'button', class: 'kb-btn reply', disabled: true, title: 'Not simulated in the sandbox' }, button.text);
  }
  return el('button', {
    type: 'button',
    class: 'kb-btn reply',
    dataset: { testid: 'tg-reply-button' },
    onclick: async () => {
      if (keyboard.one_time) reopened = null;
      if (button.request_location) await shareLocation(keyboard.message_id);
      else await act('text', { text: button.text, keyboard_message: keyboard.message_id }, `“${short(button.text)}”`);
    },
  }, button.request_location ? [icon('pin'), ` ${button.text}`] : glyphText(button.text));
}

function announceAnswers(timeline) {
  for (const item of timeline) {
    if (item.kind !== 'button' || !item.answered || !item.callback_id || announced.has(item.callback_id)) continue;
    announced.add(item.callback_id);
    if (seenAnswers && item.answer_text) toast(`Lookout: ${item.answer_text}`, item.show_alert ? 'alert' : 'info');
  }
  seenAnswers = true;
}

function short(text, length = 40) {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}
