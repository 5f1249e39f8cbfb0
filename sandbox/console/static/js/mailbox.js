// The mailbox: every email the app sent through the SMTP relay stand-in, newest first, and one of them opened.
// The HTML part is shown in a sandboxed frame served by /mail (no scripts, an origin of its own);
// its links, and the links in the plain text, open the app's pages in a new tab.

import { el, outLink } from './dom.js';

const box = () => document.querySelector('[data-testid="mailbox"]');
const part = (name) => box().querySelector(`[data-testid="${name}"]`);
// The headers worth seeing; the source view has the rest.
const SHOWN_HEADERS = ['From', 'To', 'Subject', 'Date', 'List-Unsubscribe', 'List-Unsubscribe-Post', 'Importance', 'In-Reply-To'];

let messages = [];
let fetchedFor = null; // the counter the list was last fetched for
let selected = null; // the id of the email opened
let followNewest = true; // until someone opens an older email, a new one opens as it arrives
let view = 'html';

// Called on every poll with the email counter; fetches the mailbox only when the counter moved.
export async function renderMailbox(counter) {
  box().hidden = !counter;
  if (!counter) return;
  const key = `${counter.sent}/${counter.refused}`;
  if (key === fetchedFor) return;
  const response = await fetch('/mail/api/messages', { cache: 'no-store' });
  if (!response.ok) throw new Error(`the mailbox answered HTTP ${response.status}`);
  const data = await response.json();
  fetchedFor = key;
  messages = data.messages;
  if (followNewest || !messages.some((m) => m.id === selected)) selected = messages.length ? messages[0].id : null;
  const refused = data.refused ? ` · ${data.refused} refused by the relay (addresses starting “bounce” or “busy”)` : '';
  part('mb-status').textContent = `${messages.length} email${messages.length === 1 ? '' : 's'} received${refused}`;
  drawList();
  drawReader();
}

function open(id) {
  selected = id;
  followNewest = messages.length > 0 && messages[0].id === id;
  drawList();
  drawReader();
}

function drawList() {
  part('mb-list').replaceChildren(...messages.map((mail) => el('li', {},
    el('button', {
      type: 'button', class: `mb-item${mail.id === selected ? ' current' : ''}`,
      'aria-current': mail.id === selected ? 'true' : false, dataset: { id: String(mail.id) },
      onclick: () => open(mail.id),
    },
    el('span', { class: 'mb-item-subject' }, mail.subject || '(no subject)'),
    el('span', { class: 'mb-item-to' }, `To ${mail.to.join(', ')}`),
    el('time', { class: 'mb-item-time', datetime: mail.received_at }, new Date(mail.received_at).toLocaleTimeString())),
  )));
}

function drawReader() {
  const reader = part('mb-reader');
  const mail = messages.find((m) => m.id === selected);
  if (!mail) {
    reader.replaceChildren(el('p', { class: 'mb-empty' },
      'No email yet. Sign up at the app\'s /subscribe page, or raise an alert where email residents live.'));
    return;
  }
  reader.replaceChildren(
    el('h3', { class: 'mb-subject', 'data-testid': 'mb-subject' }, mail.subject || '(no subject)'),
    headers(mail.headers),
    el('div', { class: 'mb-views', role: 'group', 'aria-label': 'Show the email as' },
      viewButton('html', 'HTML'), viewButton('text', 'Plain text'),
      outLink(`/mail/messages/${mail.id}.eml`, 'Source')),
    view === 'html'
      ? el('iframe', {
        class: 'mb-frame', src: `/mail/messages/${mail.id}.html`, title: `The email “${mail.subject}”`,
        sandbox: 'allow-popups allow-popups-to-escape-sandbox', referrerpolicy: 'no-referrer', 'data-testid': 'mb-frame',
      })
      : el('pre', { class: 'mb-text', 'data-testid': 'mb-text' }, linked(mail.text)),
  );
}

function viewButton(name, label) {
  return el('button', {
    type: 'button', class: `mb-view${view === name ? ' current' : ''}`, 'aria-pressed': view === name ? 'true' : 'false',
    onclick: () => { view = name; drawReader(); },
  }, label);
}

function headers(all) {
  const rows = SHOWN_HEADERS.filter((name) => all[name]).map((name) => el('tr', {},
    el('th', { scope: 'row' }, name),
    el('td', {}, name === 'List-Unsubscribe' ? linked(all[name]) : all[name])));
  return el('table', { class: 'mb-headers', 'data-testid': 'mb-headers' }, el('tbody', {}, rows));
}

// Text with its web addresses as links (each opens in a new tab); everything else stays text.
function linked(text) {
  return String(text ?? '').split(/(https?:\/\/[^\s<>"]+)/g).filter((piece) => piece !== '')
    .map((piece) => (/^https?:\/\//.test(piece) ? outLink(piece, piece) : document.createTextNode(piece)));
}
