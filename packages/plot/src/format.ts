/**
 * Formats a number compactly for labels: at most 4 significant digits, exponent form outside
 * [1e-3, 1e5), no trailing zeros, a real minus sign avoided (ASCII '-') so CSV and SVG agree.
 *
 * @example
 * formatNumber(0.000012345); // '1.23e-5'
 * formatNumber(1234.5678);   // '1235'
 */
export function formatNumber(v: number, digits = 4): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '∞';
  if (v === -Infinity) return '-∞';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) {
    const [m, e] = v.toExponential(Math.max(0, digits - 2)).split('e') as [string, string];
    return `${trimZeros(m)}e${e.replace('+', '')}`;
  }
  const s = v.toPrecision(digits);
  return s.includes('e') ? String(Number(s)) : trimZeros(s);
}

function trimZeros(s: string): string {
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

/** A tick label with exactly the decimals its step needs (0.1, 0.2, … not 0.30000000000000004). */
export function formatTick(v: number, step: number): string {
  const a = Math.abs(v);
  if (a >= 1e5 || (a < 1e-3 && a > 0)) return formatNumber(v, 3);
  const decimals = Math.max(0, Math.min(10, -Math.floor(Math.log10(step) + 1e-9)));
  const s = v.toFixed(decimals);
  return /^-0(\.0*)?$/.test(s) ? s.slice(1) : s;
}

/** Pixel coordinates: 2 decimals, no trailing zeros, deterministic. */
export function px(v: number): string {
  const r = Math.round(v * 100) / 100;
  return String(r === 0 ? 0 : r);
}

/**
 * Escapes text for SVG/XML content and attribute values (&, <, >, ", ') and drops the control
 * characters XML 1.0 forbids.
 *
 * @example
 * escapeXml('a < b & "c"'); // 'a &lt; b &amp; &quot;c&quot;'
 */
export function escapeXml(text: string): string {
  return (
    text
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&#39;')
  );
}

/** Rough text width for layout without a DOM (sans-serif, average glyph ≈ 0.58 em). */
export function textWidth(text: string, fontSize: number): number {
  return [...text].length * fontSize * 0.58;
}

/** FNV-1a hash of a string, as 8 hex digits (ids that differ between figures, stable per spec). */
export function hash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}
