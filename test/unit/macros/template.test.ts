import {
  encodeValue,
  MACRO_NAME_PATTERN,
  parseTemplate,
  renderTemplate,
  TemplateSyntaxError,
  type TemplateEncoding,
} from '../../../src/macros/template';
import { TRICKY_VALUES } from './fixtures';

describe('MACRO_NAME_PATTERN', () => {
  it.each(['a', 'advertising_id', 'x1', 'a_b_c_9'])('accepts %p', (name) => {
    expect(MACRO_NAME_PATTERN.test(name)).toBe(true);
  });
  it.each(['', '1a', '_a', 'A', 'aB', 'a-b', 'a.b', 'a b', 'é'])('rejects %p', (name) => {
    expect(MACRO_NAME_PATTERN.test(name)).toBe(false);
  });
});

describe('parseTemplate', () => {
  it.each([
    ['', [], []],
    ['plain text', [{ kind: 'text', text: 'plain text' }], []],
    ['{{a}}', [{ kind: 'macro', name: 'a' }], ['a']],
    ['{{ a }}', [{ kind: 'macro', name: 'a' }], ['a']],
    ['{{   spaced_name\t}}', [{ kind: 'macro', name: 'spaced_name' }], ['spaced_name']],
    [
      'https://x.test/?id={{advertising_id}}&e={{event_name}}',
      [
        { kind: 'text', text: 'https://x.test/?id=' },
        { kind: 'macro', name: 'advertising_id' },
        { kind: 'text', text: '&e=' },
        { kind: 'macro', name: 'event_name' },
      ],
      ['advertising_id', 'event_name'],
    ],
    [
      '{{b}}{{a}}{{b}}',
      [{ kind: 'macro', name: 'b' }, { kind: 'macro', name: 'a' }, { kind: 'macro', name: 'b' }],
      ['b', 'a'],
    ],
    ['a { b } c', [{ kind: 'text', text: 'a { b } c' }], []],
    ['}}', [{ kind: 'text', text: '}}' }], []],
    ['{"a":{"b":1}}', [{ kind: 'text', text: '{"a":{"b":1}}' }], []],
    ['{x}', [{ kind: 'text', text: '{x}' }], []],
    [
      '{{{x}}}',
      [{ kind: 'text', text: '{' }, { kind: 'macro', name: 'x' }, { kind: 'text', text: '}' }],
      ['x'],
    ],
    [
      '{"k":"{{x}}"}',
      [{ kind: 'text', text: '{"k":"' }, { kind: 'macro', name: 'x' }, { kind: 'text', text: '"}' }],
      ['x'],
    ],
  ])('parses %p', (source, segments, names) => {
    const parsed = parseTemplate(source);
    expect(parsed.source).toBe(source);
    expect(parsed.segments).toEqual(segments);
    expect(parsed.macroNames).toEqual(names);
  });

  it.each([
    ['abc{{', 'unclosed', 3],
    ['{{a}} then {{b', 'unclosed', 11],
    ['x {{a} y', 'unclosed', 2],
    ['{{}}', 'empty', 0],
    ['ab{{   }}', 'empty', 2],
    ['{{A}}', 'invalid-name', 0],
    ['x{{1abc}}', 'invalid-name', 1],
    ['{{a-b}}', 'invalid-name', 0],
    ['{{a b}}', 'invalid-name', 0],
    ['{{a.b}}', 'invalid-name', 0],
    ['{{ a {{b}}', 'invalid-name', 0],
  ] as const)('rejects %p as %s at %d', (source, kind, position) => {
    let caught: unknown;
    try {
      parseTemplate(source);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(TemplateSyntaxError);
    const err = caught as TemplateSyntaxError;
    expect(err.kind).toBe(kind);
    expect(err.position).toBe(position);
    expect(err.reason).toContain(`position ${position}`);
    expect(err.reason).toMatch({ unclosed: /unclosed/, empty: /empty/, 'invalid-name': /invalid macro name/ }[kind]);
    expect(err.message).toBe(err.reason);
  });
});

describe('encodeValue', () => {
  it.each<[string, TemplateEncoding, string]>([
    ['a&b=c', 'url', 'a%26b%3Dc'],
    ['what?x=1#frag', 'url', 'what%3Fx%3D1%23frag'],
    ['path/to', 'url', 'path%2Fto'],
    ['100% + more', 'url', '100%25%20%2B%20more'],
    ['say "hi"\\', 'url', 'say%20%22hi%22%5C'],
    ['l1\nl2', 'url', 'l1%0Al2'],
    ['é', 'url', '%C3%A9'],
    ['日本', 'url', '%E6%97%A5%E6%9C%AC'],
    ['🎉', 'url', '%F0%9F%8E%89'],
    ['{{x}}', 'url', '%7B%7Bx%7D%7D'],
    ['a&b=c d+e', 'form', 'a%26b%3Dc%20d%2Be'],
    ['é🎉', 'form', '%C3%A9%F0%9F%8E%89'],
    ['say "hi"', 'json-string', 'say \\"hi\\"'],
    ['back\\slash', 'json-string', 'back\\\\slash'],
    ['l1\nl2\r\t', 'json-string', 'l1\\nl2\\r\\t'],
    ['\u0001', 'json-string', '\\u0001'],
    ['é日本🎉 &=?/#%+', 'json-string', 'é日本🎉 &=?/#%+'],
    ['cr\r\nlf\n', 'header', 'crlf'],
    ['nul\0x', 'header', 'nulx'],
    ['a&b=c "é" 🎉 \\ %', 'header', 'a&b=c "é" 🎉 \\ %'],
    ['x\r\nInjected: 1', 'header', 'xInjected: 1'],
    ['bell\u0007 tab\t del\u007f esc\u001b', 'header', 'bell tab\t del esc'],
    ['anything\n"&%{{x}}', 'raw', 'anything\n"&%{{x}}'],
  ])('encodes %p as %s', (value, encoding, expected) => {
    expect(encodeValue(value, encoding)).toBe(expected);
  });

  it.each(TRICKY_VALUES)('url encoding of %p equals encodeURIComponent and decodes back', (value) => {
    expect(encodeValue(value, 'url')).toBe(encodeURIComponent(value));
    expect(decodeURIComponent(encodeValue(value, 'url'))).toBe(value);
  });

  it.each(TRICKY_VALUES)('form encoding of %p round-trips through URLSearchParams', (value) => {
    const body = `v=${encodeValue(value, 'form')}&after=1`;
    const parsed = new URLSearchParams(body);
    expect(parsed.get('v')).toBe(value);
    expect(parsed.get('after')).toBe('1');
  });

  it.each(TRICKY_VALUES)('json-string encoding of %p round-trips inside quotes', (value) => {
    expect(JSON.parse(`"${encodeValue(value, 'json-string')}"`)).toBe(value);
  });

  it.each(TRICKY_VALUES)('header encoding of %p has no CR, LF or NUL', (value) => {
    const encoded = encodeValue(value, 'header');
    expect(encoded).not.toMatch(/[\r\n\0]/);
    expect(encoded).toBe(value.replace(/[\r\n\0]/g, ''));
  });

  it('url-encodes a lone surrogate as U+FFFD instead of throwing', () => {
    expect(encodeValue('a\uD800b', 'url')).toBe('a%EF%BF%BDb');
  });
});

describe('renderTemplate', () => {
  const values: Record<string, string> = { a: 'A&1', b: '{{a}}', c: 'x y' };
  const lookup = (name: string) => values[name] ?? '';

  it.each<[string, TemplateEncoding, string]>([
    ['?a={{a}}&c={{ c }}', 'url', '?a=A%261&c=x%20y'],
    ['{{a}}{{a}}', 'raw', 'A&1A&1'],
    ['{{b}}', 'raw', '{{a}}'],
    ['{{b}}', 'url', '%7B%7Ba%7D%7D'],
    ['no macros {here}', 'url', 'no macros {here}'],
    ['{{missing}}!', 'raw', '!'],
  ])('renders %p with %s encoding', (source, encoding, expected) => {
    expect(renderTemplate(parseTemplate(source), lookup, encoding)).toBe(expected);
  });

  it('inserts each value once, without re-parsing it (no template injection)', () => {
    const calls: string[] = [];
    const out = renderTemplate(
      parseTemplate('x={{b}}'),
      (name) => {
        calls.push(name);
        return lookup(name);
      },
      'raw',
    );
    expect(out).toBe('x={{a}}');
    expect(calls).toEqual(['b']);
  });

  it('stops once longer than maxLength, returning maxLength + 1 characters', () => {
    const calls: string[] = [];
    const big = (name: string) => {
      calls.push(name);
      return 'v'.repeat(10);
    };
    const out = renderTemplate(parseTemplate('{{a}}{{a}}{{a}}{{a}}{{a}}'), big, 'raw', 25);
    expect(out).toBe('v'.repeat(26));
    expect(calls).toHaveLength(3); // the rest is never looked up
    expect(renderTemplate(parseTemplate('{{a}}{{a}}'), big, 'raw', 20)).toBe('v'.repeat(20)); // exactly at the limit: whole
  });

  it('leaves literal text unencoded', () => {
    expect(renderTemplate(parseTemplate('https://h.test/p?q=1&r={{c}}#f'), lookup, 'url')).toBe(
      'https://h.test/p?q=1&r=x%20y#f',
    );
  });
});
