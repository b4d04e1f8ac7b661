// Template parsing and rendering for postback URLs, bodies and header values.
// Pure functions: no I/O. A template is parsed once (at save time, to reject bad syntax and
// unknown names early) and rendered once per delivery.
import { toWellFormed } from '../common/unicode';

/** Names of macros, custom and built-in. */
export const MACRO_NAME_PATTERN = /^[a-z][a-z0-9_]*$/;

export type TemplateSegment = { kind: 'text'; text: string } | { kind: 'macro'; name: string };

export interface ParsedTemplate {
  source: string;
  segments: TemplateSegment[];
  /** Unique, in order of first appearance. */
  macroNames: string[];
}

export type TemplateSyntaxErrorKind = 'unclosed' | 'empty' | 'invalid-name';

export class TemplateSyntaxError extends Error {
  constructor(
    readonly kind: TemplateSyntaxErrorKind,
    /** Human-readable reason, e.g. "unclosed placeholder `{{` at position 12". */
    readonly reason: string,
    /** 0-based offset of the placeholder's opening `{{` in the template. */
    readonly position: number,
  ) {
    super(reason);
    this.name = 'TemplateSyntaxError';
  }
}

/**
 * Splits a template into literal text and `{{name}}` placeholders (spaces inside the braces
 * are allowed). A lone `{` or `}` is literal text; in a run of three or more `{`, the last two
 * open the placeholder, so `{{{x}}}` is `{` + `{{x}}` + `}`.
 */
export function parseTemplate(source: string): ParsedTemplate {
  const segments: TemplateSegment[] = [];
  const names: string[] = [];
  let text = '';
  let i = 0;
  while (i < source.length) {
    let open = source.indexOf('{{', i);
    if (open < 0) {
      text += source.slice(i);
      break;
    }
    while (source[open + 2] === '{') open++;
    text += source.slice(i, open);
    const close = source.indexOf('}}', open + 2);
    if (close < 0) {
      throw new TemplateSyntaxError('unclosed', `unclosed placeholder \`{{\` at position ${open}`, open);
    }
    const name = source.slice(open + 2, close).trim();
    if (name === '') {
      throw new TemplateSyntaxError('empty', `empty placeholder at position ${open}`, open);
    }
    if (!MACRO_NAME_PATTERN.test(name)) {
      throw new TemplateSyntaxError(
        'invalid-name',
        `invalid macro name ${JSON.stringify(name)} at position ${open}: names match [a-z][a-z0-9_]*`,
        open,
      );
    }
    if (text !== '') segments.push({ kind: 'text', text });
    text = '';
    segments.push({ kind: 'macro', name });
    if (!names.includes(name)) names.push(name);
    i = close + 2;
  }
  if (text !== '') segments.push({ kind: 'text', text });
  return { source, segments, macroNames: names };
}

/**
 * Where a value lands decides how it is escaped:
 * - url: `encodeURIComponent` (a value can never add a `&`, `=`, `?`, `#` or `/`).
 * - json-string: the inside of a JSON string; the placeholder stands inside quotes.
 * - form: application/x-www-form-urlencoded. We use `encodeURIComponent` (space as `%20`,
 *   not `+`): every form parser decodes `%20`, and it leaves no ambiguity around `+`.
 * - header: raw, with CR, LF and the other control characters (tab aside) removed, so a value
 *   cannot split or end the header, nor make the HTTP client refuse it.
 * - raw: unchanged (bodies with another Content-Type).
 */
export type TemplateEncoding = 'url' | 'json-string' | 'form' | 'header' | 'raw';

export function encodeValue(value: string, encoding: TemplateEncoding): string {
  switch (encoding) {
    case 'url':
    case 'form':
      return encodeURIComponent(toWellFormed(value)); // it throws on a lone surrogate
    case 'json-string':
      return JSON.stringify(value).slice(1, -1);
    case 'header':
      return value.replace(/[\u0000-\u0008\u000a-\u001f\u007f]/g, '');
    case 'raw':
      return value;
  }
}

/**
 * Inserts each value once: values are never parsed as templates, so a value holding `{{x}}`
 * stays literal (no template injection).
 *
 * `maxLength`: rendering stops once the output is longer, and returns its first maxLength + 1
 * characters, so the caller sees it is over. A template of many references to a large value
 * would otherwise grow without bound (64 KB of `{{param}}` × a 16 KB param is 100 MB).
 */
export function renderTemplate(
  template: ParsedTemplate,
  lookup: (name: string) => string,
  encoding: TemplateEncoding,
  maxLength: number = Infinity,
): string {
  let out = '';
  for (const segment of template.segments) {
    out += segment.kind === 'text' ? segment.text : encodeValue(lookup(segment.name), encoding);
    if (out.length > maxLength) return out.slice(0, maxLength + 1);
  }
  return out;
}
