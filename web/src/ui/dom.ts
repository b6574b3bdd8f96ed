// Small DOM helpers (the page has no framework, to stay light).

type Attrs = Record<string, string | number | boolean | null | undefined | ((ev: Event) => void)>;
type Child = Node | string | null | undefined | false;

/** Creates an element: attributes ("class", "text", "on<event>" handlers, others as attributes) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.className = String(v);
    else if (k === 'text') el.textContent = String(v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v as EventListener);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return el;
}

/** Sets textContent only when it differs (no needless layout work on per-second ticks). */
export function setText(el: Element, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

/** Sets className only when it differs. */
export function setClass(el: Element, cls: string): void {
  if (el.className !== cls) el.className = cls;
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from index.html`);
  return el as T;
}

/** Priority colours (also in style.css): P0 red, P1 orange, P2 yellow, P3 blue. */
export const PRIORITY_COLOURS: Record<string, string> = {
  P0: '#e53935',
  P1: '#fb8c00',
  P2: '#fdd835',
  P3: '#42a5f5',
};

let toastHost: HTMLElement | null = null;

/** A short message at the bottom right that fades after a few seconds (role=status for screen readers). */
export function toast(message: string, kind: 'info' | 'error' = 'info', ms = 3500): void {
  if (!toastHost) {
    toastHost = h('div', { id: 'toasts', role: 'status', 'aria-live': 'polite' });
    document.body.append(toastHost);
  }
  const el = h('div', { class: `toast toast-${kind}`, text: message });
  toastHost.append(el);
  setTimeout(() => el.remove(), ms);
}
