// The Slack pane: the officers' workspace as Slack shows it, and what an officer does sent as signed requests.

import { post, readFileAsDataUrl } from './api.js';
import { collectState, mrkdwn, renderBlocks, restoreState } from './blockkit.js';
import { el, icon, localImage, renderIfChanged, toast } from './dom.js';

const pane = () => document.querySelector('[data-testid="slack-pane"]');
const part = (name) => pane().querySelector(`[data-testid="${name}"]`);

let refresh = () => {};
let user = '';
let channel = '';
let names = {};
let channelNames = {};
const openThreads = new Set();
const drafts = new Map(); // thread reply boxes keep what was typed across redraws
let modalKey = '';
let modalId = '';

export function slackQuery() {
  return { officer: user, channel };
}

function describeAnswer(result) {
  const status = `app answered ${result.status}`;
  return result.errors ? `${status} with errors in the form` : status;
}

async function act(path, body, describe) {
  const last = part('sk-last');
  try {
    const result = await post(`slack/${path}`, { user, ...body });
    last.textContent = `${describe} → ${describeAnswer(result)}`;
    last.className = `sk-last ${result.ok === false ? 'fail' : 'ok'}`;
    if (result.ok === false) toast(`Slack: ${describe}: the app answered ${result.status}`, 'error');
    return result;
  } catch (error) {
    last.textContent = `${describe} → ${error.message}`;
    last.className = 'sk-last fail';
    toast(error.message, 'error');
    return null;
  } finally {
    refresh();
  }
}

export function setupSlack(onChange, tipsChannel) {
  refresh = onChange;
  channel = tipsChannel;
  part('sk-user').addEventListener('change', (event) => {
    user = event.target.value;
    modalKey = '';
    refresh();
  });
  const form = part('sk-composer');
  const input = form.querySelector('input');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = '';
    const result = text.startsWith('/')
      ? await act('command', { channel, text }, `slash command ${text.split(' ')[0]}`)
      : await act('message', { channel, text }, 'message');
    if (!result) input.value = text;
  });
  const messages = part('sk-messages');
  messages.addEventListener('input', (event) => {
    const key = event.target.dataset?.draftKey;
    if (key) drafts.set(key, event.target.value);
  });
  const layer = part('sk-modal-layer');
  layer.querySelector('.sk-modal-x').addEventListener('click', closeModal);
  layer.querySelector('.sk-modal-close').addEventListener('click', closeModal);
  layer.addEventListener('keydown', (event) => { if (event.key === 'Escape') closeModal(); });
}

export function renderSlack(data) {
  user = data.user;
  channel = data.channel;
  names = Object.fromEntries(data.people.map((p) => [p.id, p.real_name]));
  channelNames = Object.fromEntries(data.channels.map((c) => [c.id, c.name]));
  const select = part('sk-user');
  renderIfChanged(select, data.people, (people) => people.map((person) => el('option', { value: person.id }, `${person.real_name} — ${person.title}`)));
  select.value = user;
  renderIfChanged(part('sk-channels'), { channels: data.channels, channel }, ({ channels }) => channels.map((c) => el('li', {},
    el('button', {
      type: 'button', class: `sk-channel${c.id === channel ? ' current' : ''}`, 'aria-current': c.id === channel ? 'page' : null,
      dataset: { testid: 'sk-channel', channel: c.id },
      onclick: () => { channel = c.id; refresh(); },
    }, c.id.startsWith('D') ? `@ ${names[c.name] || c.name}` : `# ${c.name}`, c.count ? el('span', { class: 'sk-count' }, String(c.count)) : null))));
  part('sk-channel-name').textContent = channel.startsWith('D') ? `@ ${names[channelNames[channel]] || channelNames[channel]}` : `# ${channelNames[channel] || channel}`;
  part('sk-composer').querySelector('input').placeholder = `Message #${channelNames[channel] || ''}, or a /command`;
  if (!data.request_url) part('sk-last').textContent = 'The sandbox has no app URL, so there is no Request URL to call.';

  const list = part('sk-messages');
  const active = document.activeElement?.dataset?.draftKey;
  const changed = renderIfChanged(list, { messages: data.messages, user, channel, open: [...openThreads] }, ({ messages }) => (
    messages.length ? messages.map((message) => messageView(message, true)) : el('p', { class: 'sk-empty' }, 'No messages here yet.')));
  if (changed) {
    for (const box of list.querySelectorAll('[data-draft-key]')) box.value = drafts.get(box.dataset.draftKey) || '';
    if (active) list.querySelector(`[data-draft-key="${CSS.escape(active)}"]`)?.focus();
  }
  renderModal(data.modal);
}

function messageView(message, topLevel) {
  const ctx = {
    where: 'message', names, channels: channelNames,
    onAction: (block, blockId, item, value) => act('action', {
      channel, message_ts: message.ts, action_id: item.action_id, block_id: block.block_id || null, type: item.type, value,
    }, `${item.type === 'button' ? 'button' : 'choice'} ${item.type === 'button' ? `“${item.text?.text || item.action_id}”` : item.action_id}`),
  };
  const body = message.blocks?.length ? renderBlocks(message.blocks, ctx) : [el('div', { class: 'sk-text' }, mrkdwn(message.text, ctx))];
  const files = (message.files || []).map((file) => (file.image
    ? el('figure', { class: 'sk-file' }, localImage(file.url, file.title || file.name, 'sk-file-img'), el('figcaption', {}, file.title || file.name))
    : el('a', { class: 'sk-file', href: file.url, download: file.name }, icon('doc'), ` ${file.title || file.name}`)));
  const who = message.bot ? 'Lookout' : message.user_name;
  const article = el('article', {
    class: `sk-message${message.ephemeral ? ' ephemeral' : ''}`,
    dataset: { testid: message.ephemeral ? 'sk-ephemeral' : 'sk-message', ts: message.ts },
  },
  el('span', { class: `sk-avatar${message.bot ? ' bot' : ''}`, 'aria-hidden': 'true' }, who.slice(0, 1)),
  el('div', { class: 'sk-message-body' },
    el('header', {}, el('strong', {}, who), message.bot ? el('span', { class: 'tag' }, 'APP') : null,
      el('time', {}, timeOf(message.ts)), message.edited ? el('small', {}, ' (edited)') : null),
    message.ephemeral ? el('p', { class: 'sk-only-you' }, 'Only visible to you') : null,
    body, files,
    topLevel ? thread(message) : null));
  return article;
}

function thread(message) {
  const replies = message.replies || [];
  const open = openThreads.has(message.ts);
  if (message.ephemeral) return null;
  const toggle = el('button', {
    type: 'button', class: 'sk-thread-toggle', 'aria-expanded': String(open), dataset: { testid: 'sk-thread-toggle' },
    onclick: () => { if (open) openThreads.delete(message.ts); else openThreads.add(message.ts); refresh(); },
  }, replies.length ? `${replies.length} ${replies.length === 1 ? 'reply' : 'replies'}` : 'Reply in thread');
  if (!open) return el('div', { class: 'sk-thread' }, toggle);
  const key = `thread:${message.ts}`;
  const input = el('input', { id: `reply-${message.ts}`.replace('.', '-'), autocomplete: 'off', placeholder: 'Reply…', dataset: { draftKey: key } });
  const form = el('form', {
    class: 'sk-reply', dataset: { testid: 'sk-thread-reply' },
    onsubmit: async (event) => {
      event.preventDefault();
      const text = input.value.trim();
      if (!text) return;
      drafts.delete(key);
      input.value = '';
      await act('message', { channel, text, thread_ts: message.ts }, 'thread reply');
    },
  }, el('label', { for: input.id, class: 'sr-only' }, 'Reply in this thread'), input, el('button', { type: 'submit', class: 'sk-btn' }, 'Reply'));
  return el('div', { class: 'sk-thread open' }, toggle,
    el('div', { class: 'sk-replies' }, replies.map((reply) => messageView(reply, false))), form);
}

function timeOf(ts) {
  return new Date(Number(ts) * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

// --- modals -----------------------------------------------------------------------------------------

function renderModal(view) {
  const layer = part('sk-modal-layer');
  if (!view) {
    const hadFocus = !layer.hidden && layer.contains(document.activeElement);
    layer.hidden = true;
    modalKey = '';
    modalId = '';
    if (hadFocus) part('sk-composer').querySelector('input').focus(); // back where the officer was typing
    return;
  }
  const key = `${view.id}:${view.hash}`;
  layer.hidden = false;
  if (key === modalKey) return; // the officer may be typing: only a new or updated view redraws
  modalKey = key;
  const body = layer.querySelector('.sk-modal-body');
  // Slack keeps what was typed across views.update, input by input (same block_id and action_id).
  const kept = view.id === modalId ? collectState(body) : {};
  modalId = view.id;
  layer.querySelector('#sk-modal-title').textContent = view.title?.text || 'Modal';
  layer.querySelector('.sk-modal-close').textContent = view.close?.text || (view.submit ? 'Cancel' : 'Close');
  const submit = layer.querySelector('.sk-modal-submit');
  submit.hidden = !view.submit;
  submit.textContent = view.submit?.text || 'Submit';
  layer.querySelector('.sk-modal-error').hidden = true;
  const ctx = {
    where: 'modal', names, channels: channelNames,
    onAction: (block, blockId, item, value) => act('action', {
      view_id: view.id, action_id: item.action_id, block_id: block.block_id || null, type: item.type, value, values: collectState(body),
    }, `modal ${item.type === 'button' ? 'button' : 'choice'} ${item.action_id}`),
    attachFile: async (file) => (await post('slack/attach', { user, name: file.name, data: await readFileAsDataUrl(file) })).file_id,
  };
  body.replaceChildren(...renderBlocks(view.blocks, ctx));
  restoreState(body, kept);
  layer.querySelector('form').onsubmit = async (event) => {
    event.preventDefault();
    const result = await act('submit', { view_id: view.id, values: collectState(body) }, `submit “${view.title?.text || 'modal'}”`);
    if (!result) return;
    showErrors(body, result.errors || {});
    const problem = layer.querySelector('.sk-modal-error');
    problem.hidden = result.ok !== false;
    problem.textContent = result.ok === false ? `The app answered ${result.status}; Slack would say “We had some trouble connecting”.` : '';
  };
  (body.querySelector('input, textarea, select') || layer.querySelector('.sk-modal-x')).focus({ preventScroll: true });
}

// response_action "errors": each message under its input block, typed values kept.
function showErrors(body, errors) {
  for (const block of body.querySelectorAll('.sk-input')) {
    const message = errors[block.dataset.blockId];
    block.classList.toggle('has-error', Boolean(message));
    block.querySelector('.sk-error')?.remove();
    if (message) block.append(el('p', { class: 'sk-error', role: 'alert', dataset: { testid: 'sk-input-error' } }, message));
  }
}

async function closeModal() {
  await act('close', {}, 'close modal');
}
