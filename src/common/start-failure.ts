// What a process prints when it cannot start. An operator reads it in a terminal or a
// deploy log: an error that already says what is wrong and what to do is one line; anything
// unforeseen keeps its stack, which is what a bug report needs.

/** An error meant for the operator: its message names the problem and the remedy, a stack would only bury it. */
export class OperatorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The line (or, for an unforeseen error, the stack) to write to stderr, after `prefix`. */
export function startFailureText(prefix: string, error: unknown): string {
  if (error instanceof OperatorError) return `${prefix}: ${error.message}\n`;
  return `${prefix}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`;
}
