import { CliError } from '../errors.js';

/** Runs `fn`, expects it to throw a one-line CliError, and returns it. */
export function cliError(fn: () => unknown): CliError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CliError);
    expect((e as Error).message).not.toContain('\n');
    return e as CliError;
  }
  throw new Error('no CliError');
}
