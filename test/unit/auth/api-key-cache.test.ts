// Looking a key up: the requests of one key that miss its cached entry at once share one
// lookup, and a lookup that started before the key was forgotten (revoked) is not shared.
import type { DataSource } from 'typeorm';
import { ApiKeyService } from '../../../src/auth/api-key.service';
import { ApiKeyRole } from '../../../src/common/enums';

function fakeKeys() {
  let lookups = 0;
  let release: (() => void)[] = [];
  let revoked = false;
  const dataSource = {
    getRepository: () => ({
      async findOneBy() {
        lookups++;
        const revokedNow = revoked;
        await new Promise<void>((resolve) => release.push(resolve));
        return { id: 'key-1', role: ApiKeyRole.SDK, appId: 'app-1', networkId: null, revokedAt: revokedNow ? new Date() : null };
      },
      update: async () => undefined,
    }),
    options: { type: 'mysql' },
  } as unknown as DataSource;
  return {
    dataSource,
    lookups: () => lookups,
    revoke: () => (revoked = true),
    answer: async () => {
      while (release.length > 0) {
        const waiting = release;
        release = [];
        waiting.forEach((r) => r());
        await new Promise((r) => setImmediate(r));
      }
    },
  };
}

const clock = { now: () => new Date(1_000_000) };

describe('ApiKeyService.authenticate', () => {
  it('looks a key up once for the requests that miss it at the same time', async () => {
    const db = fakeKeys();
    const keys = new ApiKeyService(db.dataSource, clock, 'admin-secret');
    const calls = Array.from({ length: 10 }, () => keys.authenticate('pb_sdk_secret'));
    await db.answer();
    for (const call of calls) expect(await call).toEqual({ role: ApiKeyRole.SDK, keyId: 'key-1', appId: 'app-1' });
    expect(db.lookups()).toBe(1);
    await keys.authenticate('pb_sdk_secret');
    expect(db.lookups()).toBe(1);
  });

  it('does not share or keep a lookup that started before the key was forgotten', async () => {
    const db = fakeKeys();
    const keys = new ApiKeyService(db.dataSource, clock, 'admin-secret');
    const before = keys.authenticate('pb_sdk_secret');
    db.revoke();
    keys.forget('key-1');
    const after = keys.authenticate('pb_sdk_secret');
    await db.answer();
    expect(await before).not.toBeNull();
    expect(await after).toBeNull();
    expect(db.lookups()).toBe(2);
    expect(await keys.authenticate('pb_sdk_secret')).toBeNull();
    expect(db.lookups()).toBe(2);
  });
});
