// The location picker shared by both phones: preset places around Stafford, or a latitude and longitude.

import { el } from './dom.js';

const dialog = () => document.getElementById('location-dialog');
let pending = null; // { resolve } while the dialog is open

export function setupLocationPicker(places) {
  const box = dialog();
  const form = box.querySelector('form');
  const list = box.querySelector('.preset-list');
  list.replaceChildren(...places.map((place) => el('button', {
    type: 'button',
    class: 'preset',
    dataset: { testid: 'preset-place' },
    onclick: () => finish({ latitude: place.latitude, longitude: place.longitude, name: place.name }),
  }, el('span', { class: 'preset-name' }, place.name),
  el('span', { class: 'preset-coords' }, `${place.latitude.toFixed(4)}, ${place.longitude.toFixed(4)}`))));
  box.querySelector('[data-role="cancel"]').addEventListener('click', () => finish(null));
  box.addEventListener('cancel', () => finish(null, false));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const latitude = Number(form.elements.latitude.value);
    const longitude = Number(form.elements.longitude.value);
    const error = box.querySelector('.dialog-error');
    if (form.elements.latitude.value === '' || !Number.isFinite(latitude) || Math.abs(latitude) > 90
        || form.elements.longitude.value === '' || !Number.isFinite(longitude) || Math.abs(longitude) > 180) {
      error.textContent = 'Latitude must be between -90 and 90, longitude between -180 and 180.';
      error.hidden = false;
      return;
    }
    finish({ latitude, longitude, name: null });
  });
}

function finish(choice, close = true) {
  const box = dialog();
  if (close && box.open) box.close();
  const waiting = pending;
  pending = null;
  if (waiting) waiting.resolve(choice);
}

// Resolves with { latitude, longitude, name } or null when cancelled.
export function pickLocation(title = 'Share a location') {
  const box = dialog();
  box.querySelector('h2').textContent = title;
  box.querySelector('.dialog-error').hidden = true;
  box.querySelector('form').reset();
  return new Promise((resolve) => {
    pending = { resolve };
    box.showModal();
    box.querySelector('.preset')?.focus();
  });
}
