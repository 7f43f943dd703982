/** Colour and output helpers. NO_COLOR (any value) and non-terminal output turn colour off. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  color: boolean;
  /** Colour on stdout (stdout may be a file while stderr is a terminal); defaults to `color`. */
  outColor?: boolean;
  /** stderr is a terminal: progress is a bar redrawn in place (else plain periodic lines). */
  tty?: boolean;
  /** Writes to stderr as is (no newline added): for redrawing the progress bar. */
  errRaw?(text: string): void;
  /** Width of the stderr terminal. */
  columns?(): number;
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
    outColor: colorEnabled(process.stdout),
    tty: Boolean(process.stderr.isTTY) && process.env.TERM !== 'dumb',
    errRaw: (t) => void process.stderr.write(t),
    columns: () => process.stderr.columns || 80,
  };
}

const wrap =
  (code: string, end: string) =>
  (on: boolean, s: string): string =>
    on ? `\u001b[${code}m${s}\u001b[${end}m` : s;
export const bold = wrap('1', '22');
export const dim = wrap('2', '22');
export const red = wrap('31', '39');
export const green = wrap('32', '39');
export const yellow = wrap('33', '39');
