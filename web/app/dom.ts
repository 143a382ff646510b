// A few DOM helpers: build elements from plain values (text is always set as text, never as HTML).

type Child = Node | string | number | null | undefined | false;
type Attrs = Readonly<Record<string, string | number | boolean | null | undefined | EventListener>>;

/** Create an element: h('td', { class: 'pc', 'data-pc': 3 }, 'text', child). */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs | null = null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs !== null)
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v);
      else if (v === true) el.setAttribute(k, '');
      else el.setAttribute(k, String(v));
    }
  append(el, children);
  return el;
}

export function append(el: Element, children: readonly Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
}

/** Replace an element's children. */
export function fill(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`page element #${id} is missing`);
  return el as T;
}

/** A link to a kernel line (opens in a new tab), or plain text when there is no address. */
export function kernelLink(text: string, url: string | null, title?: string): HTMLElement {
  if (url === null) return h('span', { class: 'kref', title: title ?? 'not linked: no tree at a commit is cited for it' }, text);
  return h('a', { class: 'kref', href: url, target: '_blank', rel: 'noopener', title: title ?? url }, text);
}
