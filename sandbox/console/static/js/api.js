// The console's own endpoints on the sandbox; they act through the platforms' real doors.

import { toast } from './dom.js';

export async function post(path, body) {
  const response = await fetch(`/_console/api/${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  let data;
  try {
    data = await response.json();
  } catch {
    data = { error: `the sandbox answered HTTP ${response.status}` };
  }
  if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
  return data;
}

export async function get(path) {
  const response = await fetch(`/_console/api/${path}`, { cache: 'no-store' });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return response.json();
}

// How the app answered a platform's call, in a few words.
export function answered(status) {
  if (status === null || status === undefined) return 'not delivered';
  return `app answered ${status}`;
}

// A resident's action on a phone: post it, show on the phone's footer how the app answered,
// refresh the console either way. Returns the result, or null when the sandbox refused it.
export async function actOnPhone(platform, foot, path, body, describe, refresh) {
  try {
    const result = await post(`${platform}/${path}`, body);
    foot.textContent = `${describe} → ${answered(result.status)}`;
    foot.className = `phone-foot ${result.status >= 200 && result.status < 300 ? 'ok' : 'fail'}`;
    return result;
  } catch (error) {
    foot.textContent = `${describe} → ${error.message}`;
    foot.className = 'phone-foot fail';
    toast(error.message, 'error');
    return null;
  } finally {
    refresh();
  }
}

// The phone's own buttons: New resident (a fresh simulated user, unknown to the app) and Reset (clear the chat).
export function setupPhoneTools(platform, phone, foot, refresh) {
  const tools = {
    'new-resident': ['new_resident', (result) => `New resident: ${result.name || result.user?.first_name}`],
    reset: ['reset', () => 'Chat cleared on this phone'],
  };
  for (const [action, [path, describe]] of Object.entries(tools)) {
    phone.querySelector(`[data-action="${action}"]`).addEventListener('click', async () => {
      try {
        const result = await post(`${platform}/${path}`, {});
        foot.textContent = describe(result);
        foot.className = 'phone-foot ok';
      } catch (error) {
        foot.textContent = error.message;
        foot.className = 'phone-foot fail';
        toast(error.message, 'error');
      } finally {
        refresh();
      }
    });
  }
}

export function readFileAsDataUrl(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(new Error('could not read the picture'));
    reader.readAsDataURL(file);
  });
}
