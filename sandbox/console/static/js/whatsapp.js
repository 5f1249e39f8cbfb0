// The WhatsApp phone: what the business sent, as WhatsApp draws it, and a resident's replies sent as signed webhooks.

import { actOnPhone, answered, readFileAsDataUrl, setupPhoneTools } from './api.js';
import { append, clock, el, icon, localImage, renderIfChanged } from './dom.js';
import { deliveryMark, glyphText } from './glyphs.js';
import { pickLocation } from './places.js';

const phone = () => document.querySelector('[data-testid="whatsapp-phone"]');
const part = (name) => phone().querySelector(`[data-testid="${name}"]`);

let refresh = () => {};

function act(path, body, describe) {
  return actOnPhone('whatsapp', part('wa-last'), path, body, describe, refresh);
}

export function setupWhatsApp(onChange) {
  refresh = onChange;
  setupPhoneTools('whatsapp', phone(), part('wa-last'), refresh);
  const form = part('wa-composer');
  const input = form.querySelector('input[name="text"]');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = '';
    const result = await act('text', { text }, `message “${text.slice(0, 40)}”`);
    if (!result) input.value = text;
  });
  form.querySelector('[data-action="location"]').addEventListener('click', shareLocation);
  form.querySelector('[data-action="photo"]').addEventListener('change', async (event) => {
    const file = event.target.files[0];
    event.target.value = '';
    if (!file) return;
    const data = await readFileAsDataUrl(file);
    const caption = input.value.trim();
    input.value = '';
    await act('image', { data, caption }, 'photo');
  });
  const listDialog = document.getElementById('wa-list-dialog');
  listDialog.querySelector('[data-role="cancel"]').addEventListener('click', () => listDialog.close());
}

async function shareLocation() {
  const place = await pickLocation('Share a location on WhatsApp');
  if (!place) return;
  await act('location', place, `location ${place.name || `${place.latitude}, ${place.longitude}`}`);
}

export function renderWhatsApp(data) {
  part('wa-status').textContent = `WhatsApp · you are ${data.name} (+${data.wa_id}) · 24-hour window ${data.window_open ? 'open' : 'closed'}`;
  const banner = part('wa-banner');
  banner.hidden = Boolean(data.webhook);
  banner.textContent = 'The sandbox has no app URL, so there is no WhatsApp webhook to send to.';
  const offset = Date.now() / 1000 - data.now;
  const byId = new Map(data.timeline.filter((m) => m.id).map((m) => [m.id, m]));
  renderIfChanged(part('wa-chat'), data.timeline, (timeline) => timeline.map((item) => {
    if (item.from === 'business') return businessBubble(item, byId, offset);
    if (item.from === 'system') return el('p', { class: 'service-line fail' }, `WhatsApp refused a message from the app: (#${item.code}) ${item.text}`);
    return residentBubble(item, byId, offset);
  }));
}

// WhatsApp's own formatting: *bold*, _italic_, ~strike~ and ```monospace```, drawn as elements.
function formatted(text) {
  const pattern = /(```[^`]+```|\*[^*\n]+\*|_[^_\n]+_|~[^~\n]+~)/g;
  return String(text).split(pattern).filter((piece) => piece !== '').map((piece) => {
    if (piece.startsWith('```') && piece.endsWith('```') && piece.length > 6) return el('code', {}, piece.slice(3, -3));
    const marks = { '*': 'strong', _: 'em', '~': 's' };
    const tag = marks[piece[0]];
    if (tag && piece.length > 2 && piece.endsWith(piece[0])) return el(tag, {}, glyphText(piece.slice(1, -1)));
    return glyphText(piece);
  }).flat();
}

function businessBubble(message, byId, offset) {
  const parts = [];
  if (message.reply_to && byId.has(message.reply_to)) parts.push(quote(byId.get(message.reply_to)));
  if (message.template) parts.push(el('span', { class: 'wa-template-tag' }, `Template · ${message.template}`));
  if (message.header) parts.push(el('strong', { class: 'wa-header' }, message.header));
  if (message.type === 'image') {
    parts.push(message.image_url ? localImage(message.image_url, 'Picture', 'bubble-photo') : localImage(message.image_link, 'Picture', 'bubble-photo'));
  }
  if (message.type === 'location' && message.location) parts.push(locationCard(message.location));
  else if (message.text) parts.push(el('div', { class: 'bubble-text' }, formatted(message.text)));
  if (message.footer) parts.push(el('small', { class: 'wa-footer' }, message.footer));
  parts.push(el('span', { class: 'meta' }, clock(message.at + offset)));
  const bubble = el('article', { class: 'bubble bot', dataset: { testid: 'wa-business-message', messageId: message.id } }, parts);
  const choices = [];
  for (const button of message.buttons || []) {
    choices.push(el('button', {
      type: 'button', class: 'wa-choice', dataset: { testid: 'wa-reply-button' },
      onclick: () => act('button', { message_id: message.id, id: button.id }, `button “${button.title}”`),
    }, '↩ ', glyphText(button.title)));
  }
  for (const text of message.quick_replies || []) {
    choices.push(el('button', {
      type: 'button', class: 'wa-choice', dataset: { testid: 'wa-quick-reply' },
      onclick: () => act('quick_reply', { message_id: message.id, text }, `quick reply “${text}”`),
    }, '↩ ', glyphText(text)));
  }
  if (message.list) {
    choices.push(el('button', {
      type: 'button', class: 'wa-choice', dataset: { testid: 'wa-list-open' }, onclick: () => openList(message),
    }, `☰ ${message.list.button}`));
  }
  if (message.location_request) {
    choices.push(el('button', { type: 'button', class: 'wa-choice', onclick: shareLocation }, icon('pin'), ' Send location'));
  }
  if (!choices.length) return bubble;
  return el('div', { class: 'bubble-group' }, bubble, el('div', { class: 'wa-choices', role: 'group', 'aria-label': 'Replies' }, choices));
}

function residentBubble(item, byId, offset) {
  const parts = [];
  if (item.on_message && byId.has(item.on_message)) parts.push(quote(byId.get(item.on_message)));
  if (item.kind === 'location') parts.push(locationCard({ ...item, name: item.text }));
  else if (item.kind === 'image') {
    if (item.image_url) parts.push(localImage(item.image_url, 'Your picture', 'bubble-photo'));
    if (item.text) parts.push(el('div', { class: 'bubble-text' }, item.text));
  } else parts.push(el('div', { class: 'bubble-text' }, glyphText(item.text)));
  const ok = item.status >= 200 && item.status < 300;
  parts.push(el('span', { class: 'meta' }, clock(item.at + offset), ' ', deliveryMark(ok, item.error || answered(item.status))));
  return el('article', { class: 'bubble me', dataset: { testid: 'wa-my-message', status: item.status ?? '' } }, parts);
}

function quote(message) {
  return el('blockquote', { class: 'quote' }, String(message.text || message.type || '').slice(0, 80));
}

function locationCard(place) {
  return el('div', { class: 'map-card' }, icon('pin'),
    append(el('span'), [place.name || place.address || 'Location', el('br'),
      el('small', {}, `${Number(place.latitude).toFixed(5)}, ${Number(place.longitude).toFixed(5)}`)]));
}

function openList(message) {
  const dialog = document.getElementById('wa-list-dialog');
  const form = dialog.querySelector('form');
  dialog.querySelector('h2').textContent = message.list.button;
  const name = `wa-row-${Date.now()}`;
  dialog.querySelector('.wa-list-sections').replaceChildren(...message.list.sections.map((section) => el('fieldset', { class: 'wa-section' },
    el('legend', {}, section.title || 'Choices'),
    section.rows.map((row) => el('label', { class: 'wa-row' },
      el('input', { type: 'radio', name, value: row.id, required: true }),
      el('span', {}, glyphText(row.title), row.description ? el('small', {}, row.description) : null))))));
  form.onsubmit = async (event) => {
    event.preventDefault();
    const chosen = form.querySelector(`input[name="${name}"]:checked`);
    if (!chosen) return;
    dialog.close();
    const row = message.list.sections.flatMap((s) => s.rows).find((r) => r.id === chosen.value);
    await act('list', { message_id: message.id, id: chosen.value }, `list choice “${row ? row.title : chosen.value}”`);
  };
  dialog.showModal();
  dialog.querySelector('input[type="radio"]')?.focus();
}
