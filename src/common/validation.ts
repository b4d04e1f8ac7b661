import { ProblemList } from './errors';
import { hasLoneSurrogate } from './unicode';

/** Trims and checks a required free-text field; returns the trimmed value (or '' after adding a problem). */
export function requiredText(problems: ProblemList, field: string, value: string | null | undefined, maxLength: number): string {
  const trimmed = (value ?? '').trim();
  if (trimmed.length === 0) problems.add(field, 'must not be empty');
  else if (trimmed.length > maxLength) problems.add(field, `must be at most ${maxLength} characters`);
  return trimmed;
}

export function intInRange(problems: ProblemList, field: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) problems.add(field, `must be a whole number from ${min} to ${max}, got ${value}`);
}

// C0 controls and DEL: they have no business in names, keys or values, and break logs, CSV
// exports and header lines. Templates of a body may hold tab and line breaks (pretty JSON).
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;
const CONTROL_CHARACTERS_EXCEPT_LAYOUT = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

export const TEXT_REASONS = {
  control: 'must not contain control characters',
  controlExceptLayout: 'must not contain control characters other than tab and line breaks',
  // Stored, a lone surrogate becomes U+FFFD (one or three of them, by database): the value
  // read back, or sent on every postback, would not be the one written.
  surrogate: 'must be valid Unicode text (it holds a lone UTF-16 surrogate)',
} as const;

/**
 * The one rule for text a client writes: no lone UTF-16 surrogates, no control characters
 * (tab, LF and CR allowed where `layout` says the text is a template that may hold them).
 * The reason it breaks the rule, or null.
 */
export function textProblem(value: string, options: { layout?: boolean } = {}): string | null {
  if ((options.layout ? CONTROL_CHARACTERS_EXCEPT_LAYOUT : CONTROL_CHARACTERS).test(value)) {
    return options.layout ? TEXT_REASONS.controlExceptLayout : TEXT_REASONS.control;
  }
  if (hasLoneSurrogate(value)) return TEXT_REASONS.surrogate;
  return null;
}
