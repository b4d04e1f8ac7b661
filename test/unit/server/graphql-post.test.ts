import { isJsonInUtf8, parseJsonBody, takesGraphQLPost } from '../../../src/server/graphql-post';

const MB = 1024 * 1024;
const json = { 'content-type': 'application/json', 'content-length': '120' };

describe('takesGraphQLPost', () => {
  it('takes a plain JSON POST to /graphql, with or without a query string', () => {
    expect(takesGraphQLPost('POST', '/graphql', json, MB)).toBe(true);
    expect(takesGraphQLPost('POST', '/graphql?x=1', json, MB)).toBe(true);
    expect(takesGraphQLPost('POST', '/graphql', { ...json, 'content-encoding': 'identity' }, MB)).toBe(true);
  });

  it.each([
    ['GET', '/graphql', json],
    ['POST', '/graphql/', json],
    ['POST', '/graphqlx', json],
    ['POST', '/GRAPHQL', json],
    ['POST', '/healthz', json],
  ])('leaves %s %s to Express', (method, url, headers) => {
    expect(takesGraphQLPost(method, url, headers, MB)).toBe(false);
  });

  it.each([
    ['a compressed body', { ...json, 'content-encoding': 'gzip' }],
    ['a chunked body', { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }],
    ['no length', { 'content-type': 'application/json' }],
    ['an empty body', { ...json, 'content-length': '0' }],
    ['a body over the limit', { ...json, 'content-length': String(MB + 1) }],
    ['a malformed length', { ...json, 'content-length': '12a' }],
    ['another content type', { ...json, 'content-type': 'text/plain' }],
    ['no content type', { 'content-length': '12' }],
    ['another charset', { ...json, 'content-type': 'application/json; charset=latin1' }],
  ])('leaves %s to Express', (_what, headers) => {
    expect(takesGraphQLPost('POST', '/graphql', headers, MB)).toBe(false);
  });

  it('takes a body of exactly the limit', () => {
    expect(takesGraphQLPost('POST', '/graphql', { ...json, 'content-length': String(MB) }, MB)).toBe(true);
  });
});

describe('isJsonInUtf8', () => {
  it.each(['application/json', 'Application/JSON', 'application/json; charset=utf-8', 'application/json;charset=UTF-8', 'application/json; charset="utf-8"', 'application/json; charset=utf8', 'application/json;'])(
    'accepts %s',
    (type) => expect(isJsonInUtf8(type)).toBe(true),
  );
  it.each([undefined, 'application/jsonp', 'application/vnd.api+json', 'text/json', 'application/json; charset=iso-8859-1', 'application/json; boundary=x'])('refuses %s', (type) => {
    expect(isJsonInUtf8(type)).toBe(false);
  });
});

describe('parseJsonBody', () => {
  it('parses objects and arrays', () => {
    expect(parseJsonBody(Buffer.from(' {"query":"{ a }"}'))).toEqual({ ok: true, value: { query: '{ a }' } });
    expect(parseJsonBody(Buffer.from('[{"query":"{ a }"}]'))).toEqual({ ok: true, value: [{ query: '{ a }' }] });
  });

  it('refuses other JSON at the top, as body-parser strict mode does', () => {
    for (const body of ['"query"', '42', 'null', 'true']) expect(parseJsonBody(Buffer.from(body)).ok).toBe(false);
  });

  it('refuses malformed JSON with the parser message', () => {
    const result = parseJsonBody(Buffer.from('{"query": '));
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.reason).toMatch(/JSON/);
  });

  it('refuses a body that is not UTF-8 instead of decoding it to U+FFFD', () => {
    expect(parseJsonBody(Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d]))).toEqual({ ok: false, reason: 'the request body is not valid UTF-8' });
  });
});
