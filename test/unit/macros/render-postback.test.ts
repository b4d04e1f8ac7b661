import { HttpMethod, MacroSource, MacroTransform } from '../../../src/common/enums';
import { BadUserInputError } from '../../../src/common/errors';
import { createMacroLookup } from '../../../src/macros/macro-resolution';
import {
  compileCallbackTemplates,
  jsonBodyProblem,
  RENDERED_LIMITS,
  renderPostback,
  validateHeaders,
  type CallbackTemplates,
} from '../../../src/macros/render-postback';
import { parseTemplate } from '../../../src/macros/template';
import { macro, makeContext, TRICKY_VALUES } from './fixtures';

function templates(fields: Partial<CallbackTemplates>): CallbackTemplates {
  return { method: HttpMethod.GET, urlTemplate: 'https://p.test/pb', bodyTemplate: null, headers: [], ...fields };
}

function compileError(t: CallbackTemplates, prefix?: string): BadUserInputError {
  try {
    compileCallbackTemplates(t, prefix);
  } catch (err) {
    if (err instanceof BadUserInputError) return err;
    throw err;
  }
  throw new Error('expected a BadUserInputError');
}

const constant = (v: string) => () => v;

describe('compileCallbackTemplates', () => {
  it('compiles a GET with URL and header macros', () => {
    const c = compileCallbackTemplates(
      templates({
        urlTemplate: 'https://p.test/?id={{advertising_id}}&e={{event_name}}',
        headers: [{ name: 'X-Key', value: '{{partner_key}} {{event_name}}' }],
      }),
    );
    expect(c.method).toBe(HttpMethod.GET);
    expect(c.body).toBeNull();
    expect(c.contentType).toBeNull();
    expect(c.macroNames).toEqual(['advertising_id', 'event_name', 'partner_key']);
    expect(c.headers[0].name).toBe('X-Key');
    expect(c.headers[0].value.macroNames).toEqual(['partner_key', 'event_name']);
  });

  it('collects macro names from the body too, unique and in order', () => {
    const c = compileCallbackTemplates(
      templates({ method: HttpMethod.POST, urlTemplate: '{{a}}', headers: [{ name: 'X', value: '{{b}}' }], bodyTemplate: '{"c":"{{c}}","a":"{{a}}"}' }),
    );
    expect(c.macroNames).toEqual(['a', 'b', 'c']);
  });

  it.each<[string, { name: string; value: string }[], string, string | null]>([
    ['no Content-Type (JSON by default)', [], 'json-string', 'application/json'],
    ['application/json', [{ name: 'Content-Type', value: 'application/json' }], 'json-string', null],
    ['lowercase header name', [{ name: 'content-type', value: 'application/json; charset=utf-8' }], 'json-string', null],
    ['odd casing, vendor JSON', [{ name: 'CONTENT-TYPE', value: 'application/vnd.api+JSON' }], 'json-string', null],
    ['form', [{ name: 'Content-Type', value: 'application/x-www-form-urlencoded' }], 'form', null],
    ['form with charset, uppercase', [{ name: 'Content-Type', value: 'Application/X-WWW-Form-Urlencoded; charset=UTF-8' }], 'form', null],
    ['text/plain', [{ name: 'Content-Type', value: 'text/plain' }], 'raw', null],
    ['xml', [{ name: 'Content-Type', value: 'application/xml' }], 'raw', null],
  ])('POST body with %s', (_label, headers, encoding, contentType) => {
    const body = encoding === 'json-string' ? '{"v":"{{event_name}}"}' : 'v={{event_name}}';
    const c = compileCallbackTemplates(templates({ method: HttpMethod.POST, bodyTemplate: body, headers }));
    expect(c.bodyEncoding).toBe(encoding);
    expect(c.contentType).toBe(contentType);
  });

  it.each([null, ''])('a POST without a body (%p) has none and no default Content-Type', (bodyTemplate) => {
    const c = compileCallbackTemplates(templates({ method: HttpMethod.POST, bodyTemplate }));
    expect(c.body).toBeNull();
    expect(c.contentType).toBeNull();
  });

  it('treats an empty bodyTemplate on a GET as no body', () => {
    expect(compileCallbackTemplates(templates({ method: HttpMethod.GET, bodyTemplate: '' })).body).toBeNull();
  });

  it.each<[string, Partial<CallbackTemplates>, string, RegExp]>([
    ['unclosed URL placeholder', { urlTemplate: 'https://p.test/?a={{a' }, 'urlTemplate', /unclosed/],
    ['empty URL placeholder', { urlTemplate: 'https://p.test/?a={{ }}' }, 'urlTemplate', /empty/],
    ['bad name in URL', { urlTemplate: 'https://p.test/?a={{Bad}}' }, 'urlTemplate', /invalid macro name/],
    ['bad header value', { headers: [{ name: 'A', value: 'ok' }, { name: 'B', value: '{{x' }] }, 'headers.1.value', /unclosed/],
    ['body on a GET', { bodyTemplate: '{}' }, 'bodyTemplate', /GET/],
    ['bad body syntax', { method: HttpMethod.POST, bodyTemplate: '{"a":"{{}}"}' }, 'bodyTemplate', /empty/],
    ['JSON body not JSON', { method: HttpMethod.POST, bodyTemplate: 'id={{event_name}}' }, 'bodyTemplate', /outside a JSON string/],
    ['JSON body missing a brace', { method: HttpMethod.POST, bodyTemplate: '{"a":"{{event_name}}"' }, 'bodyTemplate', /not valid JSON/],
    ['JSON body, trailing comma', { method: HttpMethod.POST, bodyTemplate: '{"a":"x",}' }, 'bodyTemplate', /not valid JSON/],
    ['JSON body, unquoted placeholder', { method: HttpMethod.POST, bodyTemplate: '{"revenue":{{revenue}}}' }, 'bodyTemplate', /outside a JSON string/],
    ['JSON body, placeholder as a key outside quotes', { method: HttpMethod.POST, bodyTemplate: '{{{k}}:"v"}' }, 'bodyTemplate', /outside a JSON string/],
    ['JSON body, placeholder after a backslash', { method: HttpMethod.POST, bodyTemplate: '{"a":"\\{{x}}"}' }, 'bodyTemplate', /escape/],
    ['JSON body, placeholder inside \\u escape', { method: HttpMethod.POST, bodyTemplate: '{"a":"\\u00{{x}}41"}' }, 'bodyTemplate', /escape/],
    [
      'explicit JSON Content-Type, not JSON',
      { method: HttpMethod.POST, bodyTemplate: 'a={{x}}', headers: [{ name: 'content-type', value: 'application/json' }] },
      'bodyTemplate',
      /outside a JSON string/,
    ],
  ])('rejects %s on %s', (_label, fields, field, reason) => {
    const err = compileError(templates(fields));
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0].field).toBe(field);
    expect(err.problems[0].reason).toMatch(reason);
  });

  it('reports every template problem at once, with a field prefix', () => {
    const err = compileError(
      templates({ method: HttpMethod.POST, urlTemplate: '{{', headers: [{ name: 'X', value: '{{A}}' }], bodyTemplate: '[{{x}}]' }),
      'input',
    );
    expect(err.problems.map((p) => p.field)).toEqual(['input.urlTemplate', 'input.headers.0.value', 'input.bodyTemplate']);
  });

  it.each([
    '{"a":"{{x}}","b":["{{y}}", "lit {{x}} eral"],"{{k}}":1}',
    '["{{x}}"]',
    '"{{x}}"',
    '{"a":"\\"{{x}}\\\\"}',
    '{"a":"\\u0041{{x}}"}',
    '{"nested":{"deep":{"v":"{{x}}"}}, "n": 1.5, "t": true, "z": null}',
    '{"braces":"{ and }"}',
  ])('accepts the JSON body %p', (bodyTemplate) => {
    expect(() => compileCallbackTemplates(templates({ method: HttpMethod.POST, bodyTemplate }))).not.toThrow();
  });

  it('does not check form or raw bodies as JSON', () => {
    for (const ct of ['application/x-www-form-urlencoded', 'text/plain']) {
      expect(() =>
        compileCallbackTemplates(
          templates({ method: HttpMethod.POST, bodyTemplate: 'a={{x}}&b={{y}}', headers: [{ name: 'Content-Type', value: ct }] }),
        ),
      ).not.toThrow();
    }
  });
});

describe('jsonBodyProblem', () => {
  it.each<[string, RegExp | null]>([
    ['{"a":"{{x}}"}', null],
    ['{"a":{{x}}}', /outside/],
    ['{"a":"b"} {{x}}', /outside/],
    ['{"a":"\\\\"}{{x}}', /outside/],
    ['{"a":"{{x}}"', /not valid JSON/],
  ])('%p → %p', (source, expected) => {
    const problem = jsonBodyProblem(parseTemplate(source));
    if (expected === null) expect(problem).toBeNull();
    else expect(problem).toMatch(expected);
  });
});

describe('renderPostback', () => {
  it('renders URL, headers and a default-JSON body, adding Content-Type', () => {
    const compiled = compileCallbackTemplates({
      method: HttpMethod.POST,
      urlTemplate: 'https://p.test/pb?e={{event_name}}&v={{v}}',
      bodyTemplate: '{"event":"{{event_name}}","v":"{{v}}"}',
      headers: [{ name: 'X-Partner-Key', value: 'k {{v}}' }],
    });
    const values: Record<string, string> = { event_name: 'purchase', v: 'a&b "c"\r\n' };
    const out = renderPostback(compiled, (n) => values[n] ?? '');
    expect(out).toEqual({
      method: HttpMethod.POST,
      url: 'https://p.test/pb?e=purchase&v=a%26b%20%22c%22%0D%0A',
      headers: [
        { name: 'X-Partner-Key', value: 'k a&b "c"' },
        { name: 'Content-Type', value: 'application/json' },
      ],
      body: '{"event":"purchase","v":"a&b \\"c\\"\\r\\n"}',
    });
    expect(JSON.parse(out.body!)).toEqual({ event: 'purchase', v: 'a&b "c"\r\n' });
  });

  it('stops rendering a body, URL or header value just past its limit, however far macros would expand it', () => {
    const compiled = compileCallbackTemplates({
      method: HttpMethod.POST,
      urlTemplate: `https://p.test/pb?v=${'{{v}}'.repeat(100)}`,
      bodyTemplate: `{"v":"${'{{v}}'.repeat(200)}"}`,
      headers: [{ name: 'X-Big', value: '{{v}}'.repeat(10) }],
    });
    const value = 'x'.repeat(16_000); // a 16 KB param, as large as an event may carry
    const out = renderPostback(compiled, () => value);
    expect(out.body).toHaveLength(RENDERED_LIMITS.body + 1); // 3.2 MB unbounded
    expect(out.url).toHaveLength(RENDERED_LIMITS.urlStored + 1);
    expect(out.headers[0]?.value).toHaveLength(RENDERED_LIMITS.headerValue + 1);
  });

  it('keeps configured header names as given and adds no second Content-Type', () => {
    const compiled = compileCallbackTemplates(
      templates({
        method: HttpMethod.POST,
        bodyTemplate: '{}',
        headers: [{ name: 'content-TYPE', value: 'application/json' }, { name: 'x-lower', value: '1' }],
      }),
    );
    expect(renderPostback(compiled, constant('')).headers).toEqual([
      { name: 'content-TYPE', value: 'application/json' },
      { name: 'x-lower', value: '1' },
    ]);
  });

  it('a GET has a null body and no Content-Type', () => {
    const out = renderPostback(compileCallbackTemplates(templates({ urlTemplate: 'https://p.test/?x={{x}}' })), constant('1 2'));
    expect(out).toEqual({ method: HttpMethod.GET, url: 'https://p.test/?x=1%202', headers: [], body: null });
  });

  describe.each(TRICKY_VALUES)('value %p', (value) => {
    const lookup = constant(value);

    it('round-trips through the URL query', () => {
      const out = renderPostback(compileCallbackTemplates(templates({ urlTemplate: 'https://p.test/pb?v={{v}}&after=1#frag' })), lookup);
      const url = new URL(out.url);
      expect(url.searchParams.get('v')).toBe(value);
      expect(url.searchParams.get('after')).toBe('1');
      expect(url.hash).toBe('#frag');
      expect(url.pathname).toBe('/pb');
    });

    it('round-trips through a URL path segment', () => {
      const out = renderPostback(compileCallbackTemplates(templates({ urlTemplate: 'https://p.test/a/{{v}}/b' })), lookup);
      const segments = new URL(out.url).pathname.split('/');
      expect(segments).toHaveLength(4);
      expect(decodeURIComponent(segments[2])).toBe(value);
    });

    it('round-trips through a JSON body', () => {
      const out = renderPostback(
        compileCallbackTemplates(templates({ method: HttpMethod.POST, bodyTemplate: '{"v":"{{v}}","list":["x{{v}}"],"n":1}' })),
        lookup,
      );
      expect(JSON.parse(out.body!)).toEqual({ v: value, list: [`x${value}`], n: 1 });
    });

    it('round-trips through a form body', () => {
      const out = renderPostback(
        compileCallbackTemplates(
          templates({
            method: HttpMethod.POST,
            bodyTemplate: 'v={{v}}&after=1',
            headers: [{ name: 'Content-Type', value: 'application/x-www-form-urlencoded' }],
          }),
        ),
        lookup,
      );
      const form = new URLSearchParams(out.body!);
      expect(form.get('v')).toBe(value);
      expect(form.get('after')).toBe('1');
      expect([...form.keys()]).toEqual(['v', 'after']);
    });

    it('is inserted raw in a text body', () => {
      const out = renderPostback(
        compileCallbackTemplates(
          templates({ method: HttpMethod.POST, bodyTemplate: '<v>{{v}}</v>', headers: [{ name: 'Content-Type', value: 'text/xml' }] }),
        ),
        lookup,
      );
      expect(out.body).toBe(`<v>${value}</v>`);
    });

    it('lands in a header without CR or LF', () => {
      const out = renderPostback(compileCallbackTemplates(templates({ headers: [{ name: 'X-V', value: '[{{v}}]' }] })), lookup);
      expect(out.headers).toEqual([{ name: 'X-V', value: `[${value.replace(/[\r\n]/g, '')}]` }]);
      expect(out.headers[0].value).not.toMatch(/[\r\n]/);
    });
  });

  it('a value holding a placeholder stays literal everywhere (no template injection)', () => {
    const compiled = compileCallbackTemplates({
      method: HttpMethod.POST,
      urlTemplate: 'https://p.test/?v={{v}}',
      bodyTemplate: '{"v":"{{v}}"}',
      headers: [{ name: 'X-V', value: '{{v}}' }],
    });
    const values: Record<string, string> = { v: '{{secret}}', secret: 'LEAKED' };
    const out = renderPostback(compiled, (n) => values[n] ?? '');
    expect(out.url).toBe('https://p.test/?v=%7B%7Bsecret%7D%7D');
    expect(out.headers[0].value).toBe('{{secret}}');
    expect(JSON.parse(out.body!)).toEqual({ v: '{{secret}}' });
    expect(JSON.stringify(out)).not.toContain('LEAKED');
  });

  it('a header value cannot inject another header', () => {
    const out = renderPostback(
      compileCallbackTemplates(templates({ headers: [{ name: 'X-A', value: '{{v}}' }] })),
      constant('ok\r\nX-Evil: 1\nSet-Cookie: a=b'),
    );
    expect(out.headers).toEqual([{ name: 'X-A', value: 'okX-Evil: 1Set-Cookie: a=b' }]);
  });

  it('renders a full event end to end with custom macros and LAT blanking', () => {
    const ctx = makeContext({ limitAdTracking: true, params: { order: { id: 'o/1' } } });
    const scope = {
      appMacros: new Map([
        ['order_id', macro('order_id', { source: MacroSource.PARAM, path: 'order.id' })],
        ['idfa_md5', macro('idfa_md5', { source: MacroSource.FIELD, path: 'advertising_id', transform: MacroTransform.MD5 })],
      ]),
      globalMacros: new Map([['partner_key', macro('partner_key', { value: 'k&1' })]]),
    };
    const compiled = compileCallbackTemplates({
      method: HttpMethod.POST,
      urlTemplate: 'https://p.test/pb?key={{partner_key}}&idfa={{advertising_id}}&h={{idfa_md5}}&o={{order_id}}&lat={{limit_ad_tracking}}&u={{unknown}}',
      bodyTemplate: '{"rev":"{{revenue}}","at":"{{occurred_at}}","ip":"{{ip_address}}","p":"{{platform}}"}',
      headers: [{ name: 'X-UA', value: '{{user_agent}}|{{app_name}}' }],
    });
    const blanked = renderPostback(compiled, createMacroLookup(scope, ctx, { blankDeviceIdentifiers: true }));
    expect(blanked.url).toBe('https://p.test/pb?key=k%261&idfa=&h=&o=o%2F1&lat=1&u=');
    expect(JSON.parse(blanked.body!)).toEqual({ rev: '4.99', at: '2024-05-01T12:34:56.789Z', ip: '', p: 'ios' });
    expect(blanked.headers[0]).toEqual({ name: 'X-UA', value: '|Example Game' });

    const open = renderPostback(compiled, createMacroLookup(scope, ctx, { blankDeviceIdentifiers: false }));
    expect(open.url).toContain('idfa=6D92078A-8246-4BA4-AE5B-76104861E7DC');
    expect(open.url).toMatch(/&h=[0-9a-f]{32}&/);
    expect(JSON.parse(open.body!).ip).toBe('203.0.113.7');
    expect(open.headers[0].value).toBe('MyApp/3.2 (iPhone; iOS 17.4)|Example Game');
  });
});

describe('validateHeaders', () => {
  it.each<[string, { name: string; value: string }[]]>([
    ['none', []],
    ['ordinary headers', [{ name: 'X-Api-Key', value: '{{partner_key}}' }, { name: 'Content-Type', value: 'application/json' }]],
    ['token punctuation', [{ name: "X!#$%&'*+-.^_`|~9", value: '' }]],
    ['a 128-character name and a 4096-character value', [{ name: 'X'.repeat(128), value: 'v'.repeat(4096) }]],
    ['32 headers', Array.from({ length: 32 }, (_, i) => ({ name: `X-${i}`, value: 'v' }))],
    ['a tab and non-ASCII in the value', [{ name: 'X', value: 'a\tb é 🎉' }]],
  ])('accepts %s', (_label, headers) => {
    expect(validateHeaders(headers, 'input.headers')).toEqual([]);
  });

  it.each<[string, { name: string; value: string }[], string, RegExp]>([
    ['an empty name', [{ name: '', value: 'v' }], 'input.headers.0.name', /header name/],
    ['a space in the name', [{ name: 'X Key', value: 'v' }], 'input.headers.0.name', /header name/],
    ['a colon in the name', [{ name: 'X:Key', value: 'v' }], 'input.headers.0.name', /header name/],
    ['a non-ASCII name', [{ name: 'X-é', value: 'v' }], 'input.headers.0.name', /header name/],
    ['a CRLF in the name', [{ name: 'X\r\nY', value: 'v' }], 'input.headers.0.name', /header name/],
    ['a 129-character name', [{ name: 'X'.repeat(129), value: 'v' }], 'input.headers.0.name', /128/],
    ['a 4097-character value', [{ name: 'X', value: 'v'.repeat(4097) }], 'input.headers.0.value', /4096/],
    ['a CR in the value', [{ name: 'X', value: 'a\rb' }], 'input.headers.0.value', /line breaks/],
    ['a LF in the value', [{ name: 'X', value: 'a\nInjected: 1' }], 'input.headers.0.value', /line breaks/],
    ['a NUL in the value', [{ name: 'X', value: 'a\0b' }], 'input.headers.0.value', /NUL/],
    ['33 headers', Array.from({ length: 33 }, (_, i) => ({ name: `X-${i}`, value: 'v' })), 'input.headers', /32/],
    ['Content-Type twice', [{ name: 'Content-Type', value: 'a' }, { name: 'content-type', value: 'b' }], 'input.headers.1.name', /once/],
    ...[
      'webhook-id', 'Webhook-Timestamp', 'WEBHOOK-SIGNATURE', 'User-Agent', 'host', 'Content-Length',
      'transfer-encoding', 'Connection',
    ].map((name): [string, { name: string; value: string }[], string, RegExp] => [
      `reserved ${name}`,
      [{ name: 'X-Ok', value: '1' }, { name, value: 'v' }],
      'input.headers.1.name',
      /set by the dispatcher/,
    ]),
  ])('rejects %s', (_label, headers, field, reason) => {
    const problems = validateHeaders(headers, 'input.headers');
    expect(problems).toHaveLength(1);
    expect(problems[0].field).toBe(field);
    expect(problems[0].reason).toMatch(reason);
  });

  it('reports every problem at once', () => {
    const problems = validateHeaders(
      [{ name: 'Host', value: 'a\nb' }, { name: 'ok', value: 'fine' }, { name: 'bad name', value: 'x' }],
      'h',
    );
    expect(problems.map((p) => p.field)).toEqual(['h.0.name', 'h.0.value', 'h.2.name']);
  });
});
