/** Hash routes with state: `#/walkthrough?step=4&causal=1` reproduces the view when shared. */
export interface PageContext {
  params: URLSearchParams;
  /** Replaces the page's state in the URL hash (no history entry, no re-render). */
  setParams(values: Record<string, string>): void;
}

export interface Page {
  path: string;
  title: string;
  /** Draws the page; may return a cleanup (stop workers, timers) called when the page is left. */
  render(root: HTMLElement, ctx: PageContext): void | (() => void);
}

export function parseHash(hash: string): { path: string; params: URLSearchParams } {
  const raw = hash.replace(/^#\/?/, '');
  const q = raw.indexOf('?');
  return { path: q === -1 ? raw : raw.slice(0, q), params: new URLSearchParams(q === -1 ? '' : raw.slice(q + 1)) };
}

export function startRouter(pages: Page[], root: HTMLElement, nav: HTMLElement): void {
  const links = pages.map((p) => {
    const a = document.createElement('a');
    a.href = `#/${p.path}`;
    a.textContent = p.title;
    a.dataset.page = p.path;
    nav.append(a);
    return a;
  });
  let current = '';
  let cleanup: void | (() => void);
  const show = (): void => {
    const { path, params } = parseHash(location.hash);
    const page = pages.find((p) => p.path === path) ?? pages[0]!;
    if (page.path === current && path === page.path) return; // own state change
    current = page.path;
    links.forEach((a) =>
      a.dataset.page === page.path ? a.setAttribute('aria-current', 'page') : a.removeAttribute('aria-current'),
    );
    document.title = `${page.title} · attnlab`;
    if (cleanup) cleanup();
    root.replaceChildren();
    delete root.dataset.ready;
    cleanup = page.render(root, {
      params,
      setParams(values) {
        const next = new URLSearchParams(values).toString();
        history.replaceState(null, '', `${location.pathname}${location.search}#/${page.path}${next ? `?${next}` : ''}`);
      },
    });
  };
  window.addEventListener('hashchange', show);
  show();
}
