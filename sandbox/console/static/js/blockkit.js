// The Block Kit subset Lookout uses, drawn as Slack draws it, and Slack's mrkdwn: all as elements, never markup.
//
// renderBlocks(blocks, ctx) → elements. ctx = { where: 'message' | 'modal', names: {userId: name},
//   channels: {channelId: name}, onAction(block, blockId, element, value), errors: {blockId: text} }.
// Stateful elements carry data-block-id / data-action-id / data-kind so a modal's state can be read back.

import { el, localImage, outLink } from './dom.js';
import { EMOJI, emojify, glyphText } from './glyphs.js';

const STATEFUL = new Set(['plain_text_input', 'static_select', 'multi_static_select', 'radio_buttons', 'checkboxes',
  'datepicker', 'timepicker', 'number_input', 'email_text_input', 'url_text_input', 'file_input']);

// --- mrkdwn -----------------------------------------------------------------------------------------

// Slack escapes only these three; "&amp;" last, so "&amp;lt;" stays the text "&lt;".
function decode(text) {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

// *bold*, _italic_ and ~strike~ as Slack reads them: the marks hug the words (no space inside) and stand
// at word edges, so snake_case_names, 2*3*4 and file~1~ stay as typed.
const EDGE_BEFORE = '(?<![\\p{L}\\p{N}])';
const EDGE_AFTER = '(?![\\p{L}\\p{N}])';
const marked = (mark) => `${EDGE_BEFORE}${mark}[^${mark}\\s](?:[^${mark}\\n]*?[^${mark}\\s])?${mark}${EDGE_AFTER}`;
const STYLES = new RegExp(`(\`\`\`[\\s\\S]+?\`\`\`|\`[^\`\\n]+\`|${marked('\\*')}|${marked('_')}|${marked('~')})`, 'u');
const MARKS = { '*': 'strong', _: 'em', '~': 's' };

// Bold, italic, strike and code inside one run of text (Slack does not nest them across links); emoji
// shortcodes everywhere but in code. split() puts each match (the pattern's one group) at an odd index.
function styled(text) {
  return text.split(STYLES).flatMap((piece, index) => {
    if (piece === '') return [];
    if (index % 2 === 0) return glyphText(emojify(decode(piece)));
    if (piece.startsWith('```')) return [el('pre', { class: 'sk-pre' }, decode(piece.slice(3, -3)))];
    if (piece.startsWith('`')) return [el('code', {}, decode(piece.slice(1, -1)))];
    return [el(MARKS[piece[0]], {}, styled(piece.slice(1, -1)))];
  });
}

// Links, mentions and styled text within lines that are not quotes.
function inline(text, ctx) {
  const out = [];
  const pattern = /<([^<>\s][^<>]*)>/g;
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    if (match.index > last) out.push(...styled(text.slice(last, match.index)));
    out.push(special(match[1], ctx));
    last = match.index + match[0].length;
  }
  out.push(...styled(text.slice(last)));
  return out;
}

// Slack's mrkdwn: lines that start with ">" are a quote (">>>" quotes the rest of the message).
export function mrkdwn(text, ctx = {}) {
  const out = [];
  const lines = String(text ?? '').split('\n');
  let plainLines = [];
  let quoted = [];
  const flush = () => {
    if (plainLines.length) out.push(...inline(plainLines.join('\n'), ctx));
    if (quoted.length) out.push(el('blockquote', { class: 'sk-quote' }, inline(quoted.join('\n'), ctx)));
    plainLines = [];
    quoted = [];
  };
  for (const [index, line] of lines.entries()) {
    if (line.startsWith('>>>')) {
      if (plainLines.length) flush();
      quoted.push(line.slice(3).replace(/^ /, ''), ...lines.slice(index + 1));
      break;
    }
    if (line.startsWith('>')) {
      if (plainLines.length) flush();
      quoted.push(line.slice(1).replace(/^ /, ''));
    } else {
      if (quoted.length) flush();
      plainLines.push(line);
    }
  }
  flush();
  return out;
}

function special(inner, ctx) {
  const [target, label] = inner.split('|', 2);
  if (target.startsWith('@')) {
    const id = target.slice(1);
    return el('span', { class: 'sk-mention' }, `@${label || ctx.names?.[id] || id}`);
  }
  if (target.startsWith('#')) {
    const id = target.slice(1);
    return el('span', { class: 'sk-mention' }, `#${label || ctx.channels?.[id] || id}`);
  }
  if (target.startsWith('!')) return el('span', { class: 'sk-mention' }, `@${label || target.slice(1).split('^')[0]}`);
  return outLink(decode(target), decode(label || target));
}

export function textObject(text, ctx) {
  if (!text) return [];
  if (text.type === 'mrkdwn') return mrkdwn(text.text, ctx);
  return glyphText(plain(text));
}

// A plain_text object's text; Slack shows its :shortcodes: as emoji unless "emoji" is false.
const plain = (text) => (text?.emoji === false ? String(text?.text ?? '') : emojify(text?.text));

// --- blocks -------------------------------------------------------------------------------------------

export function renderBlocks(blocks, ctx) {
  return (blocks || []).map((block, index) => {
    const blockId = block.block_id || `b${index}`;
    const renderer = BLOCKS[block.type];
    if (!renderer) return el('div', { class: 'sk-unsupported' }, `[${block.type} block]`);
    return renderer(block, blockId, ctx);
  });
}

const BLOCKS = {
  section(block, blockId, ctx) {
    const body = el('div', { class: 'sk-section-body' });
    if (block.text) body.append(el('div', { class: 'sk-text' }, textObject(block.text, ctx)));
    if (block.fields?.length) {
      body.append(el('div', { class: 'sk-fields' }, block.fields.map((field) => el('div', { class: 'sk-field' }, textObject(field, ctx)))));
    }
    const section = el('div', { class: 'sk-block sk-section' }, body);
    if (block.accessory) section.append(el('div', { class: 'sk-accessory' }, element(block.accessory, block, blockId, ctx, false)));
    return section;
  },
  header(block) {
    return el('h4', { class: 'sk-block sk-header' }, glyphText(plain(block.text)));
  },
  divider() {
    return el('hr', { class: 'sk-block sk-divider' });
  },
  context(block, blockId, ctx) {
    return el('div', { class: 'sk-block sk-context' }, (block.elements || []).map((item) => (
      item.type === 'image' ? localImage(imageSource(item), item.alt_text, 'sk-context-img') : el('span', {}, textObject(item, ctx)))));
  },
  image(block) {
    return el('figure', { class: 'sk-block sk-image' },
      block.title ? el('figcaption', {}, plain(block.title)) : null,
      localImage(imageSource(block), block.alt_text, 'sk-image-img'));
  },
  actions(block, blockId, ctx) {
    return el('div', { class: 'sk-block sk-actions' }, (block.elements || []).map((item) => element(item, block, blockId, ctx, false)));
  },
  input(block, blockId, ctx) {
    const id = `sk-in-${blockId}-${block.element?.action_id || 'x'}`.replace(/[^A-Za-z0-9_-]/g, '_');
    const error = ctx.errors?.[blockId];
    const grouped = ['radio_buttons', 'checkboxes'].includes(block.element?.type);
    const label = grouped
      ? el('span', { class: 'sk-input-label', id: `${id}-label` }, plain(block.label), block.optional ? el('small', {}, ' (optional)') : null)
      : el('label', { class: 'sk-input-label', for: id }, plain(block.label), block.optional ? el('small', {}, ' (optional)') : null);
    const control = element(block.element || {}, block, blockId, { ...ctx, inputId: id, labelId: `${id}-label` }, !block.dispatch_action);
    if (error) control.setAttribute('aria-describedby', `${id}-error`);
    return el('div', { class: `sk-block sk-input${error ? ' has-error' : ''}`, dataset: { blockId } },
      label, control,
      block.hint ? el('small', { class: 'sk-hint' }, plain(block.hint)) : null,
      error ? el('p', { class: 'sk-error', id: `${id}-error`, dataset: { testid: 'sk-input-error' } }, error) : null);
  },
  rich_text(block) {
    return el('div', { class: 'sk-block sk-text' }, flattenRichText(block.elements));
  },
};

function flattenRichText(items) {
  return (items || []).map((item) => {
    if (item.type === 'text') return item.text;
    if (item.type === 'link') return outLink(item.url, item.text || item.url);
    if (item.type === 'user') return `@${item.user_id}`;
    if (item.type === 'emoji') return EMOJI[item.name] ?? `:${item.name}:`;
    if (item.elements) return flattenRichText(item.elements);
    return '';
  });
}

function imageSource(item) {
  if (item.slack_file?.id) return `/_console/api/slack/files/${encodeURIComponent(item.slack_file.id)}`;
  return item.image_url || item.slack_file?.url || '';
}

// --- elements ------------------------------------------------------------------------------------------

function options(item) {
  const flat = [...(item.options || [])];
  for (const group of item.option_groups || []) flat.push(...(group.options || []));
  return flat;
}

function element(item, block, blockId, ctx, stateOnly) {
  const dispatch = (value) => ctx.onAction?.(block, blockId, item, value);
  const data = { blockId, actionId: item.action_id || '', kind: item.type };
  if (ctx.where === 'modal' && STATEFUL.has(item.type)) data.collect = '1';
  switch (item.type) {
    case 'button': {
      const style = item.style === 'primary' ? ' primary' : item.style === 'danger' ? ' danger' : '';
      const onclick = () => {
        if (item.confirm && !window.confirm(`${plain(item.confirm.title)}\n\n${plain(item.confirm.text)}`)) return;
        if (item.url) window.open(item.url, '_blank', 'noopener');
        dispatch(item.value ?? null);
      };
      return el('button', { type: 'button', class: `sk-btn${style}`, dataset: { ...data, testid: 'sk-button' }, onclick },
        glyphText(plain(item.text)));
    }
    case 'static_select':
    case 'external_select':
    case 'multi_static_select': {
      const multi = item.type === 'multi_static_select';
      const chosen = multi ? (item.initial_options || []).map((o) => o.value) : [item.initial_option?.value];
      const select = el('select', { class: 'sk-select', multiple: multi, id: ctx.inputId, dataset: data,
        'aria-label': ctx.inputId ? null : plain(item.placeholder) || 'Choose' },
      multi ? null : el('option', { value: '' }, plain(item.placeholder) || 'Choose…'),
      options(item).map((option) => el('option', { value: option.value, selected: chosen.includes(option.value) }, plain(option.text))));
      if (!stateOnly) {
        select.addEventListener('change', () => dispatch(multi ? [...select.selectedOptions].map((o) => o.value) : select.value || null));
      }
      return select;
    }
    case 'overflow': {
      const select = el('select', { class: 'sk-select sk-overflow', 'aria-label': 'More actions', dataset: data },
        el('option', { value: '' }, '⋯'),
        options(item).map((option) => el('option', { value: option.value }, plain(option.text))));
      select.addEventListener('change', () => { if (select.value) dispatch(select.value); });
      return select;
    }
    case 'radio_buttons':
    case 'checkboxes': {
      const kind = item.type === 'radio_buttons' ? 'radio' : 'checkbox';
      const chosen = item.type === 'radio_buttons' ? [item.initial_option?.value] : (item.initial_options || []).map((o) => o.value);
      const name = `${blockId}-${item.action_id}`;
      const group = el('fieldset', { class: 'sk-choices', dataset: data, 'aria-labelledby': ctx.labelId || null },
        ctx.labelId ? null : el('legend', { class: 'sr-only' }, 'Choices'),
        options(item).map((option) => el('label', { class: 'sk-choice' },
          el('input', { type: kind, name, value: option.value, checked: chosen.includes(option.value) }),
          el('span', {}, textObject(option.text, ctx), option.description ? el('small', {}, plain(option.description)) : null))));
      if (!stateOnly) {
        group.addEventListener('change', () => {
          const values = [...group.querySelectorAll('input:checked')].map((input) => input.value);
          dispatch(kind === 'radio' ? values[0] ?? null : values);
        });
      }
      return group;
    }
    case 'plain_text_input':
    case 'number_input':
    case 'email_text_input':
    case 'url_text_input': {
      const attrs = { id: ctx.inputId, class: 'sk-textinput', dataset: data, placeholder: plain(item.placeholder) || null,
        maxlength: item.max_length || null, minlength: item.min_length || null };
      const field = item.multiline ? el('textarea', { ...attrs, rows: 3 }) : el('input', { ...attrs, type: item.type === 'number_input' ? 'number' : 'text' });
      field.value = item.initial_value || '';
      return field;
    }
    case 'datepicker':
    case 'timepicker': {
      const field = el('input', { id: ctx.inputId, type: item.type === 'datepicker' ? 'date' : 'time', class: 'sk-textinput', dataset: data });
      field.value = item.initial_date || item.initial_time || '';
      if (!stateOnly) field.addEventListener('change', () => dispatch(field.value || null));
      return field;
    }
    case 'file_input': {
      // Slack's client uploads a picked file at once; the submission then carries its file object (by its id here).
      const accept = (item.filetypes || []).map((type) => `.${type}`).join(',') || null;
      const picker = el('input', { type: 'file', id: ctx.inputId, class: 'sk-file', accept });
      const status = el('span', { class: 'sk-file-status', dataset: { testid: 'sk-file-status' } }, 'No file attached');
      const holder = el('div', { class: 'sk-file-input', dataset: data }, picker, status);
      picker.addEventListener('change', async () => {
        const file = picker.files?.[0];
        holder.dataset.fileId = '';
        if (!file) { status.textContent = 'No file attached'; return; }
        status.textContent = `Uploading ${file.name}…`;
        try {
          const id = await ctx.attachFile?.(file);
          holder.dataset.fileId = id || '';
          status.textContent = id ? `Attached: ${file.name}` : 'Not attached';
        } catch (error) {
          status.textContent = `Not attached: ${error.message}`;
        }
      });
      return holder;
    }
    case 'image':
      return localImage(imageSource(item), item.alt_text, 'sk-accessory-img');
    default:
      return el('span', { class: 'sk-unsupported' }, `[${item.type || 'unknown'} element]`);
  }
}

// Put values read by collectState back into the same inputs of a redrawn view.
export function restoreState(container, state) {
  for (const field of container.querySelectorAll('[data-collect="1"]')) {
    const { blockId, actionId, kind } = field.dataset;
    const value = state[blockId]?.[actionId];
    if (value === undefined || value === null) continue;
    const wanted = [value].flat();
    if (kind === 'file_input') { field.dataset.fileId = wanted[0] || ''; continue; }
    if (kind === 'multi_static_select') for (const option of field.options) option.selected = wanted.includes(option.value);
    else if (kind === 'checkboxes' || kind === 'radio_buttons') for (const input of field.querySelectorAll('input')) input.checked = wanted.includes(input.value);
    else field.value = value;
  }
}

// A modal's input state as {block_id: {action_id: value}}; empty inputs are null (or [] for multi-choice).
export function collectState(container) {
  const state = {};
  for (const field of container.querySelectorAll('[data-collect="1"]')) {
    const { blockId, actionId, kind } = field.dataset;
    if (!actionId) continue;
    let value;
    if (kind === 'multi_static_select') value = [...field.selectedOptions].map((o) => o.value);
    else if (kind === 'checkboxes') value = [...field.querySelectorAll('input:checked')].map((i) => i.value);
    else if (kind === 'radio_buttons') value = field.querySelector('input:checked')?.value ?? null;
    else if (kind === 'file_input') value = field.dataset.fileId ? [field.dataset.fileId] : null;
    else value = field.value === '' ? null : field.value;
    (state[blockId] ||= {})[actionId] = value;
  }
  return state;
}
