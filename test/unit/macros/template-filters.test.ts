import { createHash } from 'node:crypto';
import { HttpMethod } from '../../../src/common/enums';
import { compileCallbackTemplates, renderPostback } from '../../../src/macros/render-postback';
import {
  applyTemplateFilter,
  parseTemplate,
  renderTemplate,
  TemplateSyntaxError,
  type TemplateEncoding,
} from '../../../src/macros/template';

const hex = (algorithm: string, value: string) => createHash(algorithm).update(value, 'utf8').digest('hex');
const IFA = '6D92078A-8246-4BA4-AE5B-76104861E7DC';
const values: Record<string, string> = { ifa: IFA, device: '', email: ' Jane@Example.COM ', spaced: 'a b&c', quote: 'say "hi"', empty: '' };
const lookup = (name: string) => values[name] ?? '';
const render = (source: string, encoding: TemplateEncoding = 'raw') => renderTemplate(parseTemplate(source), lookup, encoding);

function syntaxError(source: string): TemplateSyntaxError {
  try {
    parseTemplate(source);
  } catch (error) {
    if (error instanceof TemplateSyntaxError) return error;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(source)} to be refused`);
}

describe('parsing filters and fallbacks', () => {
  it.each([
    ['{{a|sha256}}', { kind: 'macro', name: 'a', filters: [{ name: 'sha256', argument: null }] }],
    ['{{ a | sha256 }}', { kind: 'macro', name: 'a', filters: [{ name: 'sha256', argument: null }] }],
    ['{{a |lower| sha1}}', { kind: 'macro', name: 'a', filters: [{ name: 'lower', argument: null }, { name: 'sha1', argument: null }] }],
    ['{{a | SHA256}}', { kind: 'macro', name: 'a', filters: [{ name: 'sha256', argument: null }] }],
    ['{{a | default:"none"}}', { kind: 'macro', name: 'a', filters: [{ name: 'default', argument: 'none' }] }],
    ['{{a | default : "x y" }}', { kind: 'macro', name: 'a', filters: [{ name: 'default', argument: 'x y' }] }],
    ["{{a | default:'single'}}", { kind: 'macro', name: 'a', filters: [{ name: 'default', argument: 'single' }] }],
    ['{{a | default:""}}', { kind: 'macro', name: 'a', filters: [{ name: 'default', argument: '' }] }],
    ['{{a | default:"}}|{{"}}', { kind: 'macro', name: 'a', filters: [{ name: 'default', argument: '}}|{{' }] }],
    ['{{a | default:"q\\"b\\\\"}}', { kind: 'macro', name: 'a', filters: [{ name: 'default', argument: 'q"b\\' }] }],
    ['{{a||b}}', { kind: 'macro', name: 'a', fallbacks: ['b'] }],
    ['{{ a || b || c }}', { kind: 'macro', name: 'a', fallbacks: ['b', 'c'] }],
    ['{{a || b | upper | default:"-"}}', { kind: 'macro', name: 'a', fallbacks: ['b'], filters: [{ name: 'upper', argument: null }, { name: 'default', argument: '-' }] }],
    ['{{\ta\n||\nb\t|\tmd5\t}}', { kind: 'macro', name: 'a', fallbacks: ['b'], filters: [{ name: 'md5', argument: null }] }],
  ])('parses %p', (source, segment) => {
    expect(parseTemplate(source).segments).toEqual([segment]);
  });

  it('lists every name of a fallback chain among the macro names, once, in order', () => {
    expect(parseTemplate('{{b || a}}?x={{a | sha1}}&y={{c || b || d}}').macroNames).toEqual(['b', 'a', 'c', 'd']);
  });

  it('keeps text around filtered placeholders', () => {
    expect(parseTemplate('x={{a | lower}}&y=1').segments).toEqual([
      { kind: 'text', text: 'x=' },
      { kind: 'macro', name: 'a', filters: [{ name: 'lower', argument: null }] },
      { kind: 'text', text: '&y=1' },
    ]);
  });

  it.each([
    ['{{a | sha512}}', 'unknown-filter', '"sha512"'],
    ['x{{a | trim}}', 'unknown-filter', '"trim"'],
    ['{{a | }}', 'unknown-filter', '""'],
    ['{{a | default}}', 'invalid-filter', 'needs a quoted argument'],
    ['{{a | default:none}}', 'invalid-filter', 'must be quoted'],
    ['{{a | default:"open}}', 'unclosed', 'unclosed'],
    ['{{a | sha256:"x"}}', 'invalid-filter', 'takes no argument'],
    ['{{a | lower || b}}', 'invalid-filter', 'fallbacks (||) come before filters'],
    ['{{a | lower extra}}', 'invalid-filter', 'unexpected "extra"'],
    ['{{a || }}', 'invalid-name', 'invalid macro name'],
    ['{{ || a}}', 'invalid-name', 'invalid macro name'],
    ['{{a || B}}', 'invalid-name', '"B"'],
    ['{{a ||| b}}', 'invalid-name', 'invalid macro name'],
    ['{{1a | lower}}', 'invalid-name', '"1a"'],
  ] as const)('refuses %p (%s)', (source, kind, text) => {
    const error = syntaxError(source);
    expect(error.kind).toBe(kind);
    expect(error.reason).toContain(text);
    expect(error.reason).toContain(`position ${source.indexOf('{{')}`);
  });

  it('names the unknown filter and lists the known ones', () => {
    expect(syntaxError('{{advertising_id | sha-256}}').reason).toMatch(/unknown filter "sha".*filters are sha256, sha1, md5, lower, upper, default/);
  });
});

describe('rendering filters and fallbacks', () => {
  it.each([
    ['{{ifa | sha256}}', hex('sha256', IFA)],
    ['{{ifa | sha1}}', hex('sha1', IFA)],
    ['{{ifa | md5}}', hex('md5', IFA)],
    ['{{ifa | lower}}', IFA.toLowerCase()],
    ['{{ifa | lower | upper}}', IFA],
    ['{{ifa | lower | sha256}}', hex('sha256', IFA.toLowerCase())],
    ['{{ifa | sha256 | upper}}', hex('sha256', IFA).toUpperCase()],
    ['{{email | lower}}', ' jane@example.com '],
    ['{{ifa | default:"none"}}', IFA],
  ])('%p', (source, expected) => {
    expect(render(source)).toBe(expected);
  });

  describe('on empty values', () => {
    it.each([
      ['{{empty | sha256}}', ''],
      ['{{empty | md5}}', ''],
      ['{{empty | sha1}}', ''],
      ['{{empty | lower}}', ''],
      ['{{empty | upper}}', ''],
      ['{{missing | sha256}}', ''],
      ['{{empty | default:"none"}}', 'none'],
      ['{{empty | default:""}}', ''],
      ['{{empty | default:"None" | lower}}', 'none'],
      ['{{empty | sha256 | default:"unknown"}}', 'unknown'],
      ['{{empty | default:"x" | sha256}}', hex('sha256', 'x')],
      ['{{empty | default:"a" | default:"b"}}', 'a'],
    ])('%p renders %p', (source, expected) => {
      expect(render(source)).toBe(expected);
    });
  });

  describe('fallbacks', () => {
    it.each([
      ['{{device || ifa}}', IFA],
      ['{{ifa || device}}', IFA],
      ['{{empty || device || ifa}}', IFA],
      ['{{empty || device || missing}}', ''],
      ['{{empty || device || missing | default:"none"}}', 'none'],
      ['{{device || ifa | lower | sha256}}', hex('sha256', IFA.toLowerCase())],
      ['{{device || email || ifa}}', ' Jane@Example.COM '],
    ])('%p renders %p', (source, expected) => {
      expect(render(source)).toBe(expected);
    });

    it('looks up later names only when the earlier ones are empty', () => {
      const calls: string[] = [];
      const spy = (name: string) => (calls.push(name), lookup(name));
      renderTemplate(parseTemplate('{{ifa || device || email}}'), spy, 'raw');
      expect(calls).toEqual(['ifa']);
      calls.length = 0;
      renderTemplate(parseTemplate('{{device || empty || email || ifa}}'), spy, 'raw');
      expect(calls).toEqual(['device', 'empty', 'email']);
    });
  });

  describe('filters apply before encoding', () => {
    it.each<[string, TemplateEncoding, string]>([
      ['?v={{spaced | upper}}', 'url', '?v=A%20B%26C'],
      ['?v={{empty | default:"a b&c"}}', 'url', '?v=a%20b%26c'],
      ['v={{empty | default:"x=1&y"}}', 'form', 'v=x%3D1%26y'],
      ['{{quote | upper}}', 'json-string', 'SAY \\"HI\\"'],
      ['{{empty | default:"line\\\\nbreak"}}', 'json-string', 'line\\\\nbreak'],
      ['{{empty | default:"a\\"b"}}', 'json-string', 'a\\"b'],
      ['{{empty | default:"a\\"b"}}', 'url', 'a%22b'],
      ['Bearer {{empty || ifa | lower}}', 'header', `Bearer ${IFA.toLowerCase()}`],
    ])('%p as %s', (source, encoding, expected) => {
      expect(render(source, encoding)).toBe(expected);
    });
  });

  it('never re-parses a filtered value (no template injection)', () => {
    expect(renderTemplate(parseTemplate('{{x | lower}}'), () => '{{IFA | sha256}}', 'raw')).toBe('{{ifa | sha256}}');
  });
});

describe('applyTemplateFilter', () => {
  it('hashes the UTF-8 bytes', () => {
    expect(applyTemplateFilter('é', { name: 'md5', argument: null })).toBe(hex('md5', 'é'));
    expect(applyTemplateFilter('é', { name: 'sha1', argument: null })).toBe(createHash('sha1').update(Buffer.from([0xc3, 0xa9])).digest('hex'));
  });
  it('leaves a non-empty value alone under default', () => {
    expect(applyTemplateFilter(' ', { name: 'default', argument: 'x' })).toBe(' ');
  });
});

describe('filters inside callback templates', () => {
  const compile = (fields: Partial<Parameters<typeof compileCallbackTemplates>[0]>) =>
    compileCallbackTemplates({ method: HttpMethod.POST, urlTemplate: 'https://x.test/p', bodyTemplate: null, headers: [], ...fields });

  it('renders a JSON body with filtered placeholders that stays valid JSON', () => {
    const compiled = compile({ bodyTemplate: '{"id":"{{ifa | lower | sha256}}","d":"{{device || ifa}}","q":"{{empty | default:"say \\"hi\\""}}"}' });
    const body = renderPostback(compiled, lookup).body as string;
    expect(JSON.parse(body)).toEqual({ id: hex('sha256', IFA.toLowerCase()), d: IFA, q: 'say "hi"' });
  });

  it('renders a form body, a URL and headers with filters', () => {
    const compiled = compile({
      urlTemplate: 'https://x.test/p?h={{ifa | md5}}&c={{empty | default:"a b"}}',
      headers: [{ name: 'Content-Type', value: 'application/x-www-form-urlencoded' }, { name: 'X-Id', value: '{{device || ifa | sha1}}' }],
      bodyTemplate: 'e={{email | lower}}&n={{empty | default:"n/a"}}',
    });
    const out = renderPostback(compiled, lookup);
    expect(out.url).toBe(`https://x.test/p?h=${hex('md5', IFA)}&c=a%20b`);
    expect(out.headers).toContainEqual({ name: 'X-Id', value: hex('sha1', IFA) });
    expect(new URLSearchParams(out.body as string).get('e')).toBe(' jane@example.com ');
    expect(new URLSearchParams(out.body as string).get('n')).toBe('n/a');
  });

  it('lists the macros of fallbacks for the unknown-name check at save', () => {
    expect(compile({ urlTemplate: 'https://x.test/?a={{one || two | sha256}}' }).macroNames).toEqual(['one', 'two']);
  });

  it('refuses an unknown filter in any template, naming the field and the filter', () => {
    expect(() => compile({ headers: [{ name: 'X', value: '{{ifa | base64}}' }] })).toThrow(/base64/);
    try {
      compile({ urlTemplate: 'https://x.test/?a={{ifa | rot13}}', bodyTemplate: '{"a":"{{ifa | nope}}"}' });
      throw new Error('not refused');
    } catch (error) {
      const problems = (error as { problems: { field: string; reason: string }[] }).problems;
      expect(problems.map((p) => p.field)).toEqual(['urlTemplate', 'bodyTemplate']);
      expect(problems[0].reason).toContain('"rot13"');
      expect(problems[1].reason).toContain('"nope"');
    }
  });
});
