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
  /** The page's own state as it last wrote it (setParams), to tell it from a link pasted or followed. */
  let currentParams = '';
  let renders = 0;
  let cleanup: void | (() => void);
  const show = (): void => {
    // In-page anchors (the skip link's #main) are not routes.
    if (location.hash !== '' && !location.hash.startsWith('#/')) return;
    const { path, params } = parseHash(location.hash);
    const page = pages.find((p) => p.path === path) ?? pages[0]!;
    // setParams uses replaceState, which fires no hashchange: a hashchange to the page already shown
    // with other settings is a pasted link or Back/Forward, and is rendered like any other.
    if (page.path === current && path === page.path && params.toString() === currentParams) return;
    current = page.path;
    currentParams = params.toString();
    const token = ++renders;
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
        // A page left (or drawn again) since: its late results must not rewrite another page's URL.
        if (token !== renders) return;
        const next = new URLSearchParams(values).toString();
        currentParams = next;
        history.replaceState(null, '', `${location.pathname}${location.search}#/${page.path}${next ? `?${next}` : ''}`);
      },
    });
  };
  window.addEventListener('hashchange', show);
  show();
}
