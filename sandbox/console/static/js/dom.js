// Building the page safely: every string becomes a text node or a checked attribute, never markup.

export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
    else if (key === 'href') {
      const href = safeHref(value);
      if (href) node.setAttribute('href', href);
    } else node.setAttribute(key, value === true ? '' : String(value));
  }
  append(node, children);
  return node;
}

export function append(node, children) {
  for (const child of [children].flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// Only web links are clickable; javascript:, data: and the rest stay text.
export function safeHref(url) {
  const text = String(url ?? '').trim();
  if (/^https?:\/\//i.test(text)) return text;
  if (text.startsWith('/') && !text.startsWith('//')) return text;
  return null;
}

// A link that opens elsewhere without handing this page to it.
export function outLink(href, ...children) {
  const safe = safeHref(href);
  if (!safe) return el('span', {}, ...children);
  return el('a', { href: safe, target: '_blank', rel: 'noopener noreferrer' }, ...children);
}

// Images only from this server: an outside address would not load here anyway (no internet).
export function localImage(src, alt, className = '') {
  const text = String(src ?? '');
  const local = text.startsWith('/') && !text.startsWith('//') ? text
    : text.startsWith(window.location.origin + '/') ? text : null;
  if (!local) return el('span', { class: `img-placeholder ${className}`, title: text }, `Image: ${alt || 'picture'}`);
  return el('img', { src: local, alt: alt || '', class: className, loading: 'lazy' });
}

// Replace a container's children only when what it shows has changed, keeping the scroll at the bottom.
export function renderIfChanged(container, data, build) {
  const key = JSON.stringify(data);
  if (container.dataset.rendered === key) return false;
  const atBottom = container.scrollHeight - container.scrollTop - container.clientHeight < 40;
  container.dataset.rendered = key;
  container.replaceChildren(...[build(data)].flat().filter(Boolean));
  if (atBottom || !container.dataset.scrolled) {
    container.scrollTop = container.scrollHeight;
    container.dataset.scrolled = '1';
    // Pictures arrive after the redraw and push the newest message down: follow them.
    for (const image of container.querySelectorAll('img')) {
      image.addEventListener('load', () => { container.scrollTop = container.scrollHeight; }, { once: true });
    }
  }
  return true;
}

export function toast(message, kind = 'info') {
  const box = document.querySelector('.toasts');
  const item = el('div', { class: `toast toast-${kind}` }, message);
  box.append(item);
  setTimeout(() => item.remove(), kind === 'error' ? 8000 : 4000);
}

// A small icon drawn by the stylesheet (emoji fonts are not everywhere).
export function icon(name) {
  return el('span', { class: `icon icon-${name}`, 'aria-hidden': 'true' });
}

export function clock(seconds) {
  const date = new Date(seconds * 1000);
  return date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}
