/** Creates an element with attributes and children (text children are set as text, never HTML). */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | boolean | undefined> = {},
  ...children: (Node | string | null | undefined)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) if (c !== null && c !== undefined) el.append(c);
  return el;
}

/** Saves text as a file through a temporary link. */
export function download(name: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** Numbers for on-screen tables: 3 decimals, a real minus sign, ∞ for infinities. */
export function fmt(v: number): string {
  if (v === -Infinity) return '−∞';
  if (v === Infinity) return '∞';
  const s = (Math.round(v * 1000) / 1000).toFixed(3);
  return s.startsWith('-') ? `−${s.slice(1)}` : s;
}
