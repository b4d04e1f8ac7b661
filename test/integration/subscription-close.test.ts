import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { startTestService, TestService } from '../support/test-service';

/** The README's subscription snippet's retry rule: stop on the server's "your key is wrong" closes. */
const shouldRetry = (event: unknown) => !(event && typeof event === 'object' && [4401, 4403].includes((event as { code?: number }).code ?? 0));

describe('graphql-ws with a bad key', () => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService('sqlite');
  });
  afterAll(async () => {
    await t?.stop();
  });

  it.each([
    ['an unknown key', 'Bearer undefined', 4403, /unknown or revoked API key/],
    ['no key', undefined, 4401, /no API key/],
  ])('closes with a code and a reason for %s, and the README client stops instead of retrying', async (_what, authorization, code, reason) => {
    let connecting = 0;
    const client = createClient({
      url: t.service.url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: authorization ? { authorization } : {},
      shouldRetry,
      retryWait: async () => undefined,
      on: { connecting: () => void (connecting += 1) },
    });
    try {
      const error = await new Promise<{ code: number; reason: string }>((resolve, reject) => {
        client.subscribe({ query: 'subscription { deliveryUpdated { id } }' }, { next: () => reject(new Error('unexpected data')), error: (e) => resolve(e as never), complete: () => reject(new Error('completed')) });
      });
      expect(error.code).toBe(code);
      expect(error.reason).toMatch(reason);
      expect(connecting).toBe(1);
    } finally {
      await client.dispose();
    }
  });
});
