/** Colour and output helpers. NO_COLOR (any value) and non-terminal output turn colour off. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  color: boolean;
}

export function colorEnabled(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== '0';
  return Boolean(stream.isTTY) && env.TERM !== 'dumb';
}

export function processIo(): Io {
  return {
    out: (t) => void process.stdout.write(t.endsWith('\n') ? t : `${t}\n`),
    err: (t) => void process.stderr.write(t.endsWith('\n') ? t : `${t}\n`),
    color: colorEnabled(process.stderr),
  };
}

const wrap = (code: string, end: string) => (on: boolean, s: string): string => (on ? `\u001b[${code}m${s}\u001b[${end}m` : s);
export const bold = wrap('1', '22');
export const dim = wrap('2', '22');
export const red = wrap('31', '39');
export const green = wrap('32', '39');
export const yellow = wrap('33', '39');
