// Emoji as the platforms show them, and check marks that need no emoji font.
//
// Slack turns :shortcodes: into emoji in mrkdwn and in plain_text with "emoji": true; the table holds the
// ones Lookout's Slack messages use and a few more an officer might type (unknown codes stay text, as in
// Slack). Check marks (✅ ✔️ ☑️ ✓) and crosses (❌) are drawn by the stylesheet over the character, which stays in the text
// for copying and screen readers: a machine without an emoji font would otherwise show an empty box.

import { el } from './dom.js';

export const EMOJI = {
  rotating_light: '🚨', warning: '⚠️', white_check_mark: '✅', heavy_check_mark: '✔️', ballot_box_with_check: '☑️',
  no_entry: '⛔', no_entry_sign: '🚫', x: '❌', zzz: '💤', wastebasket: '🗑️', hourglass_flowing_sand: '⏳',
  hourglass: '⌛', test_tube: '🧪', stopwatch: '⏱️', round_pushpin: '📍', pushpin: '📌', pencil2: '✏️', memo: '📝',
  mag: '🔍', lock: '🔒', information_source: 'ℹ️', clock3: '🕒', busts_in_silhouette: '👥', bust_in_silhouette: '👤',
  police_car: '🚓', oncoming_police_car: '🚔', cop: '👮', police_officer: '👮', speech_balloon: '💬', bell: '🔔',
  no_bell: '🔕', loudspeaker: '📢', mega: '📣', eyes: '👀', thumbsup: '👍', '+1': '👍', thumbsdown: '👎', '-1': '👎',
  ok_hand: '👌', wave: '👋', pray: '🙏', tada: '🎉', fire: '🔥', sos: '🆘', phone: '☎️', telephone_receiver: '📞',
  iphone: '📱', email: '📧', envelope: '✉️', calendar: '📆', date: '📅', camera: '📷', link: '🔗', house: '🏠',
  car: '🚗', red_circle: '🔴', large_green_circle: '🟢', large_yellow_circle: '🟡', exclamation: '❗',
  question: '❓', heavy_plus_sign: '➕', arrow_right: '➡️', leftwards_arrow_with_hook: '↩️', spiral_note_pad: '🗒️',
  clipboard: '📋', slightly_smiling_face: '🙂', smile: '😄',
};

const SHORTCODE = /:([a-z0-9_+-]+):(?::skin-tone-[2-6]:)?/g;
// The characters drawn by the stylesheet, by the class that draws each.
const DRAWN = { '✅': 'glyph-check-box', '☑': 'glyph-check-box', '✔': 'glyph-check', '✓': 'glyph-check', '❌': 'glyph-cross' };
const GLYPH = /([✅☑✔✓❌]\uFE0F?)/u;

// ":rotating_light: Alert" → "🚨 Alert"; codes Slack would not know stay as typed.
export function emojify(text) {
  return String(text ?? '').replace(SHORTCODE, (whole, name) => EMOJI[name] ?? whole);
}

// Text as nodes, each check mark or cross in a span the stylesheet draws.
export function glyphText(text) {
  // split() keeps what the pattern captured as pieces of their own: a glyph, or a glyph and its U+FE0F.
  return String(text ?? '').split(GLYPH).filter((piece) => piece !== '').map((piece) => (
    GLYPH.test(piece) ? el('span', { class: DRAWN[piece[0]] }, piece) : document.createTextNode(piece)));
}

// A resident's message as the app took it: two ticks drawn by the stylesheet, or "!" when it was not delivered.
export function deliveryMark(ok, title) {
  if (!ok) return el('span', { class: 'tick fail', title }, '!');
  return el('span', { class: 'tick ok', title, role: 'img', 'aria-label': title },
    el('span', { class: 'icon icon-ticks', 'aria-hidden': 'true' }));
}
