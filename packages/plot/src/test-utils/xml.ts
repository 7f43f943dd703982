// Test helper (not exported): a strict little XML checker, enough for our SVG output.
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const ENTITY: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" };
function decode(s: string): string {
  if (/&(?!(amp|lt|gt|quot|#39);)/.test(s)) throw new Error(`unescaped & in ${JSON.stringify(s.slice(0, 40))}`);
  return s.replace(/&(amp|lt|gt|quot|#39);/g, (_, e: string) => ENTITY[e]!);
}

/** Parses an XML document into a tree; throws on mismatched tags, bad attributes or stray `<`/`>`. */
export function parseXml(xml: string): XmlElement {
  const root: XmlElement = { name: '#document', attrs: {}, children: [], text: '' };
  const stack: XmlElement[] = [root];
  const re = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|([^<]+)/gy;
  let m: RegExpExecArray | null;
  let pos = 0;
  while (pos < xml.length) {
    re.lastIndex = pos;
    m = re.exec(xml);
    if (!m) throw new Error(`malformed XML at ${pos}: ${JSON.stringify(xml.slice(pos, pos + 60))}`);
    pos = re.lastIndex;
    const top = stack[stack.length - 1]!;
    if (m[5] !== undefined) {
      if (m[5].includes('>')) throw new Error(`stray > in text ${JSON.stringify(m[5])}`);
      top.text += decode(m[5]);
      continue;
    }
    const [, close, name, attrText, selfClose] = m as unknown as [string, string, string, string, string];
    if (close) {
      if (top.name !== name) throw new Error(`</${name}> closes <${top.name}>`);
      stack.pop();
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of attrText.matchAll(/([\w:-]+)="([^"]*)"/g)) {
      if (a[1]! in attrs) throw new Error(`duplicate attribute ${a[1]} on <${name}>`);
      attrs[a[1]!] = decode(a[2]!);
    }
    const el: XmlElement = { name, attrs, children: [], text: '' };
    top.children.push(el);
    if (!selfClose) stack.push(el);
  }
  if (stack.length !== 1) throw new Error(`unclosed <${stack[stack.length - 1]!.name}>`);
  const svg = root.children.filter((c) => c.name !== '#text');
  if (svg.length !== 1) throw new Error(`expected one root element; got ${svg.length}`);
  return svg[0]!;
}

/** Every element (depth first) matching the predicate. */
export function findAll(el: XmlElement, pred: (e: XmlElement) => boolean): XmlElement[] {
  const out: XmlElement[] = [];
  const walk = (e: XmlElement): void => {
    if (pred(e)) out.push(e);
    e.children.forEach(walk);
  };
  walk(el);
  return out;
}

export const byClass =
  (cls: string) =>
  (e: XmlElement): boolean =>
    (e.attrs.class ?? '').split(' ').includes(cls);
