// What the four pages share: the links between them, the role each needs,
// and the page shell of the intel pages (sign-in with the token of token.ts,
// who is signed in and with which role, the error banner). The command
// centre (main.ts) has its own shell and the same links in index.html.

import { Api, ApiError } from './api.js';
import { clearToken, isSubprotocolSafe, loadToken, saveToken } from './token.js';
import type { WhoAmI } from './types.js';
import { byId, h, setText } from './ui/dom.js';

export type PageName = 'command' | 'curation' | 'incidents' | 'admin';
export type Role = 'analyst' | 'curator' | 'admin';

export interface NavPage {
  page: PageName;
  href: string;
  label: string;
  /** The least role the page's API calls need (for the admin page: its changes). */
  role: Role;
}

export const NAV_PAGES: readonly NavPage[] = [
  { page: 'command', href: './', label: 'Command centre', role: 'analyst' },
  { page: 'curation', href: './curation.html', label: 'Curation', role: 'curator' },
  { page: 'incidents', href: './incidents.html', label: 'Incidents', role: 'analyst' },
  // Its reads need analyst (anyone may look, read-only); its changes need admin.
  { page: 'admin', href: './admin.html', label: 'Admin', role: 'admin' },
];

const RANK: Record<string, number> = { analyst: 1, curator: 2, admin: 3 };

/** True when `role` may do what `need` may (admin everything, curator also reads). Unknown roles may nothing. */
export function roleAllows(role: string | null | undefined, need: Role): boolean {
  return (RANK[role ?? ''] ?? 0) >= (RANK[need] ?? Infinity);
}

/** Why a page refuses: the role it needs, the token's, and the server's 403 text. */
export function roleMessage(page: PageName, who: WhoAmI | null, serverText: string): string {
  const p = NAV_PAGES.find((x) => x.page === page);
  const need = p?.role ?? 'admin';
  const label = p?.label ?? page;
  const whom = who ? `This token (${who.name}) has the ${who.role} role` : 'This token lacks it';
  const others = NAV_PAGES.filter((x) => x.page !== page && roleAllows(who?.role, x.role)).map((x) => x.label);
  const open = others.length ? ` With this token you can open ${others.join(' or ')}.` : '';
  return (
    `${label} needs the ${need} role (or admin). ${whom}; the server answered 403` +
    `${serverText ? `: ${serverText}` : ''}. Sign in with a ${need} token to use this page.${open}`
  );
}

/** The links of the nav bar, the current page marked with aria-current. */
export function mountNav(host: HTMLElement, current: PageName): void {
  host.replaceChildren(
    ...NAV_PAGES.map((p) =>
      h('a', { href: p.href, class: 'pagenav-link', 'aria-current': p.page === current ? 'page' : null, 'data-page': p.page }, p.label),
    ),
  );
}

/** The error banner: names what failed until the next success of the same thing or a dismissal. */
export class ErrorBanner {
  private what = '';
  private readonly text: HTMLElement;

  constructor(private readonly el: HTMLElement) {
    this.text = h('span', { class: 'banner-text' });
    const close = h('button', { type: 'button', class: 'btn btn-small banner-close', 'aria-label': 'dismiss' }, '×');
    close.addEventListener('click', () => this.clear());
    el.replaceChildren(this.text, close);
    el.hidden = true;
  }

  show(what: string, message: string): void {
    this.what = what;
    setText(this.text, message);
    this.el.hidden = false;
  }

  /** Hides the banner; with `what`, only when it shows that failure. */
  clear(what?: string): void {
    if (what !== undefined && what !== this.what) return;
    this.what = '';
    this.el.hidden = true;
  }
}

export interface ShellHooks {
  /** Signed in (the token passed /v1/whoami, or whoami did not answer: me is null then). */
  onSession(api: Api, me: WhoAmI | null): void;
  /** Signed out or the token was refused: forget what was shown. */
  onSignedOut(): void;
}

/**
 * The sign-in box, the header's name and role, sign-out, and 401 handling for
 * the intel pages. Elements (same ids as index.html): #signin, #signin-form,
 * #signin-token, #signin-error, #whoami, #signout, #pagenav.
 */
export class PageShell {
  api: Api | null = null;
  me: WhoAmI | null = null;
  private generation = 0;

  constructor(
    readonly page: PageName,
    private readonly hooks: ShellHooks,
  ) {
    mountNav(byId('pagenav'), page);
    byId<HTMLFormElement>('signin-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const token = byId<HTMLInputElement>('signin-token').value.trim();
      if (!token) return;
      if (!isSubprotocolSafe(token)) {
        this.showSignIn('That token has characters a token cannot contain (spaces or punctuation); paste it again.');
        return;
      }
      saveToken(sessionStorage, token);
      void this.startSession(token);
    });
    byId('signout').addEventListener('click', () => {
      this.end();
      clearToken(sessionStorage);
      this.showSignIn('Signed out.');
    });
  }

  /** Signs in with the fragment's or the stored token, else shows the sign-in box. */
  boot(): void {
    const token = loadToken(window.location, window.history, sessionStorage);
    if (!token) {
      this.showSignIn('');
      return;
    }
    if (!isSubprotocolSafe(token)) {
      clearToken(sessionStorage);
      this.showSignIn('The token in the link has characters a token cannot contain.');
      return;
    }
    void this.startSession(token);
  }

  private end(): void {
    this.generation++;
    this.api = null;
    this.me = null;
    this.hooks.onSignedOut();
  }

  private unauthorised(message: string): void {
    if (!this.api) return;
    this.end();
    clearToken(sessionStorage);
    this.showSignIn(`The server refused the token (401): ${message}`);
  }

  private async startSession(token: string): Promise<void> {
    this.end();
    const gen = this.generation;
    this.hideSignIn();
    const api = new Api(document.baseURI, token, (m) => this.unauthorised(m));
    this.api = api;
    let me: WhoAmI | null = null;
    try {
      me = await api.get<WhoAmI>('v1/whoami');
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) return;
    }
    if (gen !== this.generation) return;
    this.me = me;
    setText(byId('whoami'), me ? `${me.name} · ` : '');
    const role = byId('role');
    setText(role, me ? me.role : '');
    role.hidden = !me;
    role.dataset.role = me?.role ?? '';
    this.hooks.onSession(api, me);
  }

  private showSignIn(message: string): void {
    byId('signin').hidden = false;
    document.body.classList.add('signed-out');
    const err = byId('signin-error');
    err.hidden = !message;
    setText(err, message);
    setText(byId('whoami'), '');
    byId('role').hidden = true;
    const input = byId<HTMLInputElement>('signin-token');
    input.value = '';
    input.focus();
  }

  private hideSignIn(): void {
    byId('signin').hidden = true;
    document.body.classList.remove('signed-out');
  }
}
