/** An error the user can act on: printed as one line (no stack trace), with this exit code. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** At most `max` characters of an error message (a huge value echoed back would flood the terminal). */
export function clip(message: string, max = 1000): string {
  return message.length <= max ? message : `${message.slice(0, max)}… (${message.length - max} more characters)`;
}
