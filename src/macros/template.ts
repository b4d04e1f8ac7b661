// Template parsing and rendering for postback URLs, bodies and header values.
// Pure functions: no I/O. A template is parsed once (at save time, to reject bad syntax and
// unknown names and filters early) and rendered once per delivery.
import { createHash } from 'node:crypto';
import { toWellFormed } from '../common/unicode';

/** Names of macros, custom and built-in. */
export const MACRO_NAME_PATTERN = /^[a-z][a-z0-9_]*$/;

/**
 * Inline filters, applied in order to the placeholder's value before it is encoded. Hashes give
 * lowercase hex of the UTF-8 bytes and leave an empty value empty (a hash of nothing would look
 * like an identifier to a partner); `default` replaces an empty value with its argument.
 */
export const TEMPLATE_FILTERS = ['sha256', 'sha1', 'md5', 'lower', 'upper', 'default'] as const;
export type TemplateFilterName = (typeof TEMPLATE_FILTERS)[number];
/** Filters that take an argument (`default:"none"`); the others take none. */
const FILTERS_WITH_ARGUMENT: ReadonlySet<TemplateFilterName> = new Set(['default']);

export interface TemplateFilter {
  name: TemplateFilterName;
  /** The quoted argument, unescaped; null for filters without one. */
  argument: string | null;
}

/**
 * `{{a}}` is `{ name: 'a' }`. `{{a || b || c | sha256}}` is `{ name: 'a', fallbacks: ['b', 'c'],
 * filters: [sha256] }`: the first non-empty of a, b, c, then the filters. The optional fields are
 * absent when unused, so the common placeholder stays small and renders on a fast path.
 */
export type TemplateSegment =
  | { kind: 'text'; text: string }
  | { kind: 'macro'; name: string; fallbacks?: string[]; filters?: TemplateFilter[] };

export interface ParsedTemplate {
  source: string;
  segments: TemplateSegment[];
  /** Unique, in order of first appearance (fallbacks included). */
  macroNames: string[];
}

export type TemplateSyntaxErrorKind = 'unclosed' | 'empty' | 'invalid-name' | 'unknown-filter' | 'invalid-filter';

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
 *
 * A placeholder may chain fallbacks and filters: `{{ device_id || advertising_id | lower | sha256 }}`,
 * `{{ campaign_id | default:"organic" }}`. A filter argument is quoted with " or ' (backslash
 * escapes the quote and itself) and may hold `}}`.
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
    const close = findPlaceholderEnd(source, open + 2);
    if (close < 0) {
      throw new TemplateSyntaxError('unclosed', `unclosed placeholder \`{{\` at position ${open}`, open);
    }
    const segment = parsePlaceholder(source.slice(open + 2, close), open);
    if (text !== '') segments.push({ kind: 'text', text });
    text = '';
    segments.push(segment);
    for (const name of [segment.name, ...(segment.fallbacks ?? [])]) if (!names.includes(name)) names.push(name);
    i = close + 2;
  }
  if (text !== '') segments.push({ kind: 'text', text });
  return { source, segments, macroNames: names };
}

/** The index of the `}}` that closes a placeholder whose content starts at `from`, skipping quoted filter arguments; -1 if none. */
function findPlaceholderEnd(source: string, from: number): number {
  let quote: string | null = null;
  for (let j = from; j < source.length; j++) {
    const ch = source[j];
    if (quote !== null) {
      if (ch === '\\') j++;
      else if (ch === quote) quote = null;
    } else if (ch === '"' || ch === "'") {
      // Quotes open an argument only after `:`; elsewhere they are left for the name check to refuse.
      if (/:\s*$/.test(source.slice(from, j))) quote = ch;
    } else if (ch === '}' && source[j + 1] === '}') {
      return j;
    }
  }
  return -1;
}

function parsePlaceholder(content: string, position: number): Extract<TemplateSegment, { kind: 'macro' }> {
  if (content.trim() === '') throw new TemplateSyntaxError('empty', `empty placeholder at position ${position}`, position);
  const invalidName = (name: string) =>
    new TemplateSyntaxError(
      'invalid-name',
      `invalid macro name ${JSON.stringify(name)} at position ${position}: names match [a-z][a-z0-9_]*`,
      position,
    );
  // Without a pipe it is the plain `{{name}}` of old: the whole content must be a name.
  if (!content.includes('|')) {
    const name = content.trim();
    if (!MACRO_NAME_PATTERN.test(name)) throw invalidName(name);
    return { kind: 'macro', name };
  }

  const scanner = new PlaceholderScanner(content, position);
  const alternatives: string[] = [];
  for (;;) {
    const name = scanner.word();
    if (name === null || !MACRO_NAME_PATTERN.test(name)) throw invalidName(name ?? scanner.rest().trim());
    alternatives.push(name);
    if (!scanner.eat('||')) break;
  }
  const filters: TemplateFilter[] = [];
  while (scanner.eat('|')) {
    const word = scanner.word();
    const filterName = word?.toLowerCase();
    if (!filterName || !(TEMPLATE_FILTERS as readonly string[]).includes(filterName)) {
      throw new TemplateSyntaxError(
        'unknown-filter',
        `unknown filter ${JSON.stringify(word ?? scanner.rest().trim())} in the placeholder at position ${position}: filters are ${TEMPLATE_FILTERS.join(', ')}`,
        position,
      );
    }
    const name = filterName as TemplateFilterName;
    let argument: string | null = null;
    if (scanner.eat(':')) argument = scanner.quoted();
    if (FILTERS_WITH_ARGUMENT.has(name) && argument === null) {
      throw new TemplateSyntaxError('invalid-filter', `filter ${name} needs a quoted argument, e.g. ${name}:"none", in the placeholder at position ${position}`, position);
    }
    if (!FILTERS_WITH_ARGUMENT.has(name) && argument !== null) {
      throw new TemplateSyntaxError('invalid-filter', `filter ${name} takes no argument, in the placeholder at position ${position}`, position);
    }
    filters.push({ name, argument });
  }
  if (!scanner.atEnd()) {
    const rest = scanner.rest().trim();
    const reason = rest.startsWith('||')
      ? `fallbacks (||) come before filters (|) in the placeholder at position ${position}`
      : `unexpected ${JSON.stringify(rest)} in the placeholder at position ${position}`;
    throw new TemplateSyntaxError('invalid-filter', reason, position);
  }
  const segment: Extract<TemplateSegment, { kind: 'macro' }> = { kind: 'macro', name: alternatives[0] };
  if (alternatives.length > 1) segment.fallbacks = alternatives.slice(1);
  if (filters.length > 0) segment.filters = filters;
  return segment;
}

/** Tokens of one placeholder's content; whitespace between them is skipped. */
class PlaceholderScanner {
  private at = 0;
  constructor(
    private readonly content: string,
    private readonly position: number,
  ) {}

  private skipSpace(): void {
    while (this.at < this.content.length && /\s/.test(this.content[this.at])) this.at++;
  }

  atEnd(): boolean {
    this.skipSpace();
    return this.at >= this.content.length;
  }

  rest(): string {
    return this.content.slice(this.at);
  }

  /** Consumes `token` if it comes next; a lone `|` is not the start of `||`. */
  eat(token: '||' | '|' | ':'): boolean {
    this.skipSpace();
    if (!this.content.startsWith(token, this.at)) return false;
    if (token === '|' && this.content[this.at + 1] === '|') return false;
    this.at += token.length;
    return true;
  }

  /** A run of name characters (any case, so that a wrong-case name can be reported), or null. */
  word(): string | null {
    this.skipSpace();
    const match = /^[A-Za-z0-9_]+/.exec(this.content.slice(this.at));
    if (!match) return null;
    this.at += match[0].length;
    return match[0];
  }

  quoted(): string {
    this.skipSpace();
    const quote = this.content[this.at];
    if (quote !== '"' && quote !== "'") {
      throw new TemplateSyntaxError('invalid-filter', `a filter argument must be quoted, e.g. default:"none", in the placeholder at position ${this.position}`, this.position);
    }
    let value = '';
    for (let j = this.at + 1; j < this.content.length; j++) {
      const ch = this.content[j];
      if (ch === '\\' && j + 1 < this.content.length) {
        value += this.content[++j];
      } else if (ch === quote) {
        this.at = j + 1;
        return value;
      } else {
        value += ch;
      }
    }
    throw new TemplateSyntaxError('invalid-filter', `unclosed quoted argument in the placeholder at position ${this.position}`, this.position);
  }
}

/** Applies one filter to a raw value (before encoding). */
export function applyTemplateFilter(value: string, filter: TemplateFilter): string {
  switch (filter.name) {
    case 'lower':
      return value.toLowerCase();
    case 'upper':
      return value.toUpperCase();
    case 'sha256':
    case 'sha1':
    case 'md5':
      return value === '' ? '' : createHash(filter.name).update(value, 'utf8').digest('hex');
    case 'default':
      return value === '' ? (filter.argument ?? '') : value;
  }
}

/** The raw value of a placeholder: the first non-empty of its name and fallbacks, through its filters. */
export function placeholderValue(segment: Extract<TemplateSegment, { kind: 'macro' }>, lookup: (name: string) => string): string {
  let value = lookup(segment.name);
  if (value === '' && segment.fallbacks) {
    for (const name of segment.fallbacks) {
      value = lookup(name);
      if (value !== '') break;
    }
  }
  if (segment.filters) for (const filter of segment.filters) value = applyTemplateFilter(value, filter);
  return value;
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
    out += segment.kind === 'text' ? segment.text : encodeValue(placeholderValue(segment, lookup), encoding);
    if (out.length > maxLength) return out.slice(0, maxLength + 1);
  }
  return out;
}
