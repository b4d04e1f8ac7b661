// Compiling a callback's templates (at save time and before rendering) and rendering a postback
// for one event: URL percent-encoded, headers raw without line breaks, body by its Content-Type.

import { HttpMethod } from '../common/enums';
import { BadUserInputError, type FieldProblem } from '../common/errors';
import {
  parseTemplate,
  renderTemplate,
  TemplateSyntaxError,
  type ParsedTemplate,
  type TemplateEncoding,
} from './template';

export const MAX_HEADERS = 32;
export const HEADER_NAME_MAX_LENGTH = 128;
export const HEADER_VALUE_MAX_LENGTH = 4096;
/** All configured header names and values together: receivers commonly refuse more than 8–16 KB of headers. */
export const HEADERS_TOTAL_MAX_LENGTH = 16 * 1024;
/**
 * The longest rendered postback the dispatcher sends, in characters. Macros expand, so a
 * template within its limits can still render far longer; a postback over these limits is
 * stored cut at limit + 1 characters (rendering stops there) and fails with one recorded
 * attempt, nothing sent, as an over-long URL does. The URL is kept whole up to `urlStored`
 * so that its error can be read.
 */
export const RENDERED_LIMITS = {
  url: 2048,
  urlStored: 64 * 1024,
  body: 1024 * 1024,
  headerValue: 8 * 1024,
} as const;
/** Set by the dispatcher (identity, signing, framing); a callback may not configure them. */
export const RESERVED_HEADER_NAMES: ReadonlySet<string> = new Set([
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
  'user-agent',
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  // Hop-by-hop headers: the HTTP client manages them and would drop a configured value.
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'proxy-connection',
]);
export const DEFAULT_BODY_CONTENT_TYPE = 'application/json';
/** RFC 7230 `token`. */
const HEADER_NAME_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export interface CallbackTemplates {
  method: HttpMethod;
  urlTemplate: string;
  bodyTemplate: string | null;
  headers: { name: string; value: string }[];
}

export interface CompiledCallback {
  method: HttpMethod;
  url: ParsedTemplate;
  /** null: no body (a GET, or a POST without a body template). */
  body: ParsedTemplate | null;
  headers: { name: string; value: ParsedTemplate }[];
  bodyEncoding: TemplateEncoding;
  /** A Content-Type header that rendering adds because none is configured (a POST body defaults to JSON); else null. */
  contentType: string | null;
  /** Every macro used in the URL, headers and body: unique, in order. */
  macroNames: string[];
}

export interface RenderedPostback {
  method: HttpMethod;
  url: string;
  headers: { name: string; value: string }[];
  body: string | null;
}

/**
 * Parses every template of a callback and checks the body against its Content-Type. Throws
 * BadUserInputError listing every problem, on `urlTemplate`, `bodyTemplate` or
 * `headers.N.value` (prefixed with `${fieldPrefix}.` when one is given). An empty
 * `bodyTemplate` is treated as no body.
 */
export function compileCallbackTemplates(t: CallbackTemplates, fieldPrefix?: string): CompiledCallback {
  const field = (name: string) => (fieldPrefix ? `${fieldPrefix}.${name}` : name);
  const problems: FieldProblem[] = [];
  const parse = (source: string, fieldName: string): ParsedTemplate | null => {
    try {
      return parseTemplate(source);
    } catch (err) {
      if (err instanceof TemplateSyntaxError) {
        problems.push({ field: field(fieldName), reason: err.reason });
        return null;
      }
      throw err;
    }
  };

  const url = parse(t.urlTemplate, 'urlTemplate');
  const headers = t.headers.map((h, i) => ({ name: h.name, value: parse(h.value, `headers.${i}.value`) }));

  const bodySource = t.bodyTemplate === null || t.bodyTemplate === '' ? null : t.bodyTemplate;
  const contentTypeHeader = t.headers.find((h) => h.name.toLowerCase() === 'content-type');
  let body: ParsedTemplate | null = null;
  let bodyEncoding: TemplateEncoding = 'raw';
  let contentType: string | null = null;
  if (bodySource !== null) {
    if (t.method === HttpMethod.GET) {
      problems.push({ field: field('bodyTemplate'), reason: 'a GET callback has no body; use POST or remove bodyTemplate' });
    } else {
      body = parse(bodySource, 'bodyTemplate');
      bodyEncoding = contentTypeHeader ? bodyEncodingFor(contentTypeHeader.value) : 'json-string';
      if (!contentTypeHeader) contentType = DEFAULT_BODY_CONTENT_TYPE;
      if (body && bodyEncoding === 'json-string') {
        const reason = jsonBodyProblem(body);
        if (reason) problems.push({ field: field('bodyTemplate'), reason });
      }
    }
  }

  if (problems.length > 0 || !url) throw new BadUserInputError(problems);

  const macroNames: string[] = [];
  const templates = [url, ...headers.map((h) => h.value), body];
  for (const template of templates) {
    for (const name of template?.macroNames ?? []) if (!macroNames.includes(name)) macroNames.push(name);
  }
  return {
    method: t.method,
    url,
    body,
    headers: headers.map((h) => ({ name: h.name, value: h.value as ParsedTemplate })),
    bodyEncoding,
    contentType,
    macroNames,
  };
}

/** How body values are escaped for a configured Content-Type value (case-insensitive). */
export function bodyEncodingFor(contentType: string): TemplateEncoding {
  const ct = contentType.toLowerCase();
  if (ct.includes('json')) return 'json-string';
  if (ct.includes('application/x-www-form-urlencoded')) return 'form';
  return 'raw';
}

/**
 * Why a JSON body template would not render to valid JSON, or null. Every placeholder must stand
 * inside a JSON string (not after a backslash or inside a \u escape), and the template must be
 * valid JSON with every placeholder replaced by an empty string. With both, any value escaped as
 * json-string keeps the body valid.
 */
export function jsonBodyProblem(body: ParsedTemplate): string | null {
  let inString = false;
  let escaped = false;
  let hexLeft = 0;
  for (const segment of body.segments) {
    if (segment.kind === 'macro') {
      if (!inString) return `placeholder {{${segment.name}}} stands outside a JSON string; put it inside quotes`;
      if (escaped || hexLeft > 0) return `placeholder {{${segment.name}}} stands inside a JSON escape sequence`;
      continue;
    }
    for (const ch of segment.text) {
      if (!inString) {
        if (ch === '"') inString = true;
      } else if (hexLeft > 0) {
        hexLeft--;
      } else if (escaped) {
        escaped = false;
        if (ch === 'u') hexLeft = 4;
      } else if (ch === '\\') {
        escaped = true;
      } else if (ch === '"') {
        inString = false;
      }
    }
  }
  const emptied = body.segments.map((s) => (s.kind === 'text' ? s.text : '')).join('');
  try {
    JSON.parse(emptied);
  } catch (err) {
    return `the body template is not valid JSON (with every placeholder empty): ${(err as Error).message}`;
  }
  return null;
}

/** Renders a compiled callback; `lookup` gives raw values, encoded here by where they stand. */
export function renderPostback(compiled: CompiledCallback, lookup: (name: string) => string): RenderedPostback {
  const headers = compiled.headers.map((h) => ({ name: h.name, value: renderTemplate(h.value, lookup, 'header', RENDERED_LIMITS.headerValue) }));
  if (compiled.contentType !== null) headers.push({ name: 'Content-Type', value: compiled.contentType });
  return {
    method: compiled.method,
    url: renderTemplate(compiled.url, lookup, 'url', RENDERED_LIMITS.urlStored),
    headers,
    body: compiled.body ? renderTemplate(compiled.body, lookup, compiled.bodyEncoding, RENDERED_LIMITS.body) : null,
  };
}

/**
 * Problems with configured headers: names are RFC 7230 tokens of at most 128 characters, not
 * reserved for the dispatcher, and Content-Type at most once; values at most 4096 characters
 * without CR, LF or NUL; at most 32 headers. Fields: `${fieldPrefix}.N.name` / `.N.value`.
 */
export function validateHeaders(
  headers: ReadonlyArray<{ name: string; value: string }>,
  fieldPrefix: string,
): FieldProblem[] {
  const problems: FieldProblem[] = [];
  if (headers.length > MAX_HEADERS) problems.push({ field: fieldPrefix, reason: `at most ${MAX_HEADERS} headers` });
  const total = headers.reduce((sum, h) => sum + h.name.length + h.value.length, 0);
  if (total > HEADERS_TOTAL_MAX_LENGTH) problems.push({ field: fieldPrefix, reason: `names and values together must be at most ${HEADERS_TOTAL_MAX_LENGTH} characters, got ${total}` });
  let contentTypes = 0;
  headers.forEach((h, i) => {
    const nameField = `${fieldPrefix}.${i}.name`;
    const valueField = `${fieldPrefix}.${i}.value`;
    const lower = h.name.toLowerCase();
    if (!HEADER_NAME_TOKEN.test(h.name)) {
      problems.push({ field: nameField, reason: 'must be an HTTP header name (letters, digits and !#$%&\'*+-.^_`|~)' });
    } else if (h.name.length > HEADER_NAME_MAX_LENGTH) {
      problems.push({ field: nameField, reason: `must be at most ${HEADER_NAME_MAX_LENGTH} characters` });
    } else if (RESERVED_HEADER_NAMES.has(lower)) {
      problems.push({ field: nameField, reason: `${h.name} is set by the dispatcher and may not be configured` });
    } else if (lower === 'content-type' && ++contentTypes > 1) {
      problems.push({ field: nameField, reason: 'Content-Type may be given only once' });
    }
    if (h.value.length > HEADER_VALUE_MAX_LENGTH) {
      problems.push({ field: valueField, reason: `must be at most ${HEADER_VALUE_MAX_LENGTH} characters` });
    } else if (/[\r\n\0]/.test(h.value)) {
      problems.push({ field: valueField, reason: 'must not contain line breaks (CR, LF) or NUL' });
    }
  });
  return problems;
}
