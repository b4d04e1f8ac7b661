// The HTTP surface of the contract besides GraphQL documents: GET queries, health, readiness.
import { testDatabases } from '../support/databases';
import { startTestService, TestService, TEST_ADMIN_SECRET } from '../support/test-service';

describe.each(testDatabases())('the HTTP endpoints on %s', (kind) => {
  let t: TestService;
  let base: string;
  beforeAll(async () => {
    t = await startTestService(kind);
    base = t.service.url.replace(/\/graphql$/, '');
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('answers queries over GET when the Authorization header is sent, and refuses mutations over GET', async () => {
    const query = encodeURIComponent('{ builtInMacros { name } }');
    const ok = await fetch(`${base}/graphql?query=${query}`, { headers: { authorization: `Bearer ${TEST_ADMIN_SECRET}` } });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { data: { builtInMacros: unknown[] } }).data.builtInMacros.length).toBeGreaterThan(15);

    // Without a CSRF-safe header a GET could come from a cross-site <img> or form: refused.
    const bare = await fetch(`${base}/graphql?query=${query}`);
    expect(bare.status).toBe(400);

    const mutation = encodeURIComponent('mutation { deleteApp(id: "x") }');
    const refused = await fetch(`${base}/graphql?query=${mutation}`, { headers: { authorization: `Bearer ${TEST_ADMIN_SECRET}` } });
    expect(refused.status).toBe(405);
  });

  it('says healthy while running, and ready only while the database answers', async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    await t.service.services.dataSource.destroy();
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'database unavailable' });
    await t.service.services.dataSource.initialize();
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
  });

  it('gives every request an id, keeping a sane one the client sent', async () => {
    const post = (headers: Record<string, string>) =>
      fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_ADMIN_SECRET}`, ...headers }, body: JSON.stringify({ query: '{ builtInMacros { name } }' }) });
    const fresh = await post({});
    expect(fresh.status).toBe(200);
    expect(fresh.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect((await post({ 'x-request-id': 'trace-42.a:b' })).headers.get('x-request-id')).toBe('trace-42.a:b');
    expect((await post({ 'x-request-id': 'no spaces allowed' })).headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    // The Express path (a GET, health) gets one too.
    expect((await fetch(`${base}/healthz`)).headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers a malformed body the same way on the fast path and through Express', async () => {
    const send = (contentType: string) => fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': contentType }, body: '{"query": ' });
    // application/json goes the fast path; with an unknown parameter it goes through Express's body-parser.
    const answers = await Promise.all([send('application/json'), send('application/json; profile=x')]);
    for (const answer of answers) {
      expect(answer.status).toBe(400);
      expect(answer.headers.get('content-type')).toBe('application/json; charset=utf-8');
      const body = (await answer.json()) as { errors: { message: string; extensions: { code: string } }[] };
      expect(body.errors).toEqual([{ message: expect.stringMatching(/^malformed request body: /), extensions: { code: 'BAD_REQUEST' } }]);
    }
  });
});
