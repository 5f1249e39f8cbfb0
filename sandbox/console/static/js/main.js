// The console page: set the panes up, then poll the sandbox for what the platforms saw and redraw what changed.

import { get } from './api.js';
import { el, toast } from './dom.js';
import { renderMailbox } from './mailbox.js';
import { setupLocationPicker } from './places.js';
import { renderSlack, setupSlack, slackQuery } from './slack.js';
import { renderTelegram, setupTelegram } from './telegram.js';
import { renderWhatsApp, setupWhatsApp } from './whatsapp.js';

const POLL_MS = 700;
let timer = null;
let inFlight = false;
let again = false;
let failing = false;
const lastCounts = {};

async function refresh() {
  if (inFlight) { again = true; return; }
  inFlight = true;
  clearTimeout(timer);
  try {
    const query = new URLSearchParams(slackQuery());
    const state = await get(`state?${query}`);
    renderCounters(state.counters);
    renderTelegram(state.telegram);
    renderWhatsApp(state.whatsapp);
    renderSlack(state.slack);
    await renderMailbox(state.counters.email);
    if (failing) toast('The sandbox is answering again.');
    failing = false;
    document.body.dataset.ready = '1';
  } catch (error) {
    if (!failing) toast(`Cannot reach the sandbox: ${error.message}`, 'error');
    failing = true;
  } finally {
    inFlight = false;
    if (again) { again = false; refresh(); } else timer = setTimeout(refresh, POLL_MS);
  }
}

function renderCounters(counters) {
  for (const [platform, numbers] of Object.entries(counters)) {
    const box = document.querySelector(`[data-testid="counter-${platform}"]`);
    if (!box) continue;
    const value = box.querySelector('.counter-value');
    if (lastCounts[platform] !== undefined && lastCounts[platform] !== numbers.sent) {
      box.classList.remove('bump');
      void box.offsetWidth; // restart the animation
      box.classList.add('bump');
    }
    lastCounts[platform] = numbers.sent;
    value.textContent = String(numbers.sent);
    const notes = [];
    if (numbers.rate_limited) notes.push(`${numbers.rate_limited} rate-limited`);
    if (numbers.refused) notes.push(`${numbers.refused} refused`);
    box.querySelector('.counter-note').textContent = notes.join(' · ') || 'messages received';
  }
}

function renderDoors(doors) {
  const footer = document.querySelector('[data-testid="doors"]');
  footer.replaceChildren(
    el('span', {}, 'App: ', el('code', {}, doors.app_url || 'not set')),
    el('span', {}, 'Telegram Bot API: ', el('code', {}, `${window.location.origin}${doors.telegram}`)),
    el('span', {}, 'Slack Web API: ', el('code', {}, `${window.location.origin}${doors.slack}`)),
    el('span', {}, 'WhatsApp Cloud API: ', el('code', {}, `${window.location.origin}${doors.whatsapp}`)),
    el('span', {}, 'Nominatim: ', el('code', {}, `${window.location.host}${doors.nominatim}`)),
    doors.smtp ? el('span', {}, 'SMTP relay: ', el('code', {}, doors.smtp)) : null,
    el('span', {}, 'Mailbox: ', el('code', {}, `${window.location.origin}${doors.mail}/api/messages`)),
  );
}

async function start() {
  const config = await get('config');
  renderDoors(config.doors);
  setupLocationPicker(config.places);
  setupTelegram(refresh);
  setupWhatsApp(refresh);
  setupSlack(refresh, config.tips_channel);
  refresh();
}

start().catch((error) => toast(`The console could not start: ${error.message}`, 'error'));
