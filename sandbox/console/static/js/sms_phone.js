// The feature phone: the texts in and out, polled; a box to text the app (through the SMS stand-in's signed webhook).
// Everything from the app is shown with textContent: nothing in a text can run.

const screen = document.querySelector('[data-testid="sms-screen"]');
const number = document.querySelector('[data-testid="sms-number"]');
const optOut = document.querySelector('[data-testid="sms-optout"]');
const form = document.querySelector('[data-testid="sms-compose"]');
const foot = document.querySelector('[data-testid="sms-foot"]');
let shown = -1;

function line(text) {
  const item = document.createElement('li');
  item.className = text.direction;
  item.textContent = text.body;
  const meta = document.createElement('span');
  meta.className = 'sms-meta';
  const when = new Date(text.at * 1000).toLocaleTimeString();
  meta.textContent = text.direction === 'out'
    ? `${when} · ${text.segments} segment${text.segments === 1 ? '' : 's'} · ${text.status}`
    : `${when} · app answered ${text.status ?? '…'}`;
  item.append(meta);
  return item;
}

async function refresh() {
  try {
    const response = await fetch('/_console/api/sms/state', { cache: 'no-store' });
    const state = await response.json();
    number.textContent = state.number;
    optOut.hidden = !state.opted_out;
    const key = JSON.stringify(state.texts.map((t) => [t.at, t.status]));
    if (key === shown) return;
    shown = key;
    screen.replaceChildren(...state.texts.map(line));
    screen.scrollTop = screen.scrollHeight;
  } catch (error) {
    foot.textContent = `the sandbox did not answer: ${error.message}`;
  }
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const text = form.elements.text.value;
  foot.textContent = 'sending…';
  try {
    const response = await fetch('/_console/api/sms/text', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ text }),
    });
    const data = await response.json();
    foot.textContent = response.ok ? `sent → app answered ${data.status}` : data.error;
    if (response.ok) form.elements.text.value = '';
  } catch (error) {
    foot.textContent = error.message;
  }
  refresh();
});

refresh();
setInterval(refresh, 1000);
