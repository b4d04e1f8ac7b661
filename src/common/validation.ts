import { ProblemList } from './errors';

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
