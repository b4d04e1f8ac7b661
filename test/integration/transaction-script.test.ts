// A transaction of known statements in one round trip (MySQL) or in withTransaction (SQLite):
// all or nothing, with or without a check before the commit.
import type { DataSource } from 'typeorm';
import { isUniqueViolation } from '../../src/db/errors';
import { runTransactionScript, scriptPackets } from '../../src/db/transaction-script';
import { testDatabases } from '../support/databases';
import { startTestService, TestService } from '../support/test-service';

describe('scriptPackets', () => {
  it('wraps the statements in one packet, parameters in order', () => {
    expect(scriptPackets([{ sql: 'A ?', parameters: [1] }, { sql: 'B ?, ?', parameters: [2, 3] }], true)).toEqual([{
      sql: 'START TRANSACTION;\nA ?;\nB ?, ?;\nCOMMIT',
      parameters: [1, 2, 3],
      first: 0, count: 2, begins: true, commits: true,
    }]);
    expect(scriptPackets([{ sql: 'A', parameters: [] }], false).map((p) => p.sql)).toEqual(['START TRANSACTION;\nA']);
  });

  it('splits a script larger than the budget; START TRANSACTION opens the first packet, COMMIT closes the last', () => {
    const big = (sql: string) => ({ sql, parameters: ['x'.repeat(1000)] }); // about 3 KB by the estimate
    const packets = scriptPackets([big('A ?'), big('B ?'), big('C ?')], true, 7000);
    expect(packets.map((p) => p.sql)).toEqual(['START TRANSACTION;\nA ?;\nB ?', 'C ?;\nCOMMIT']);
    expect(packets.map((p) => [p.first, p.count, p.begins, p.commits])).toEqual([[0, 2, true, false], [2, 1, false, true]]);
    // A statement over the budget on its own still goes, alone.
    expect(scriptPackets([big('A ?'), big('B ?')], false, 100).map((p) => p.sql)).toEqual(['START TRANSACTION;\nA ?', 'B ?']);
  });
});

describe.each(testDatabases())('runTransactionScript on %s', (kind) => {
  let t: TestService;
  let ds: DataSource;

  beforeAll(async () => {
    t = await startTestService(kind);
    ds = t.service.services.dataSource;
    await ds.query(`CREATE TABLE script_probe (id varchar(36) NOT NULL PRIMARY KEY, n int NOT NULL, payload ${kind === 'mysql' ? 'MEDIUMTEXT' : 'TEXT'} NULL)`);
  });
  beforeEach(async () => {
    await ds.query('DELETE FROM script_probe');
  });
  afterAll(async () => {
    await t?.stop();
  });

  const ids = async () => ((await ds.query('SELECT id FROM script_probe ORDER BY id')) as { id: string }[]).map((r) => r.id);
  const insert = (id: string, n = 1) => ({ sql: 'INSERT INTO script_probe (id, n) VALUES (?, ?)', parameters: [id, n] });

  it('commits every statement and returns their affected rows', async () => {
    const affected = await runTransactionScript(ds, [insert('a'), insert('b'), { sql: 'UPDATE script_probe SET n = n + 1', parameters: [] }]);
    expect(affected).toEqual([1, 1, 2]);
    expect(await ids()).toEqual(['a', 'b']);
  });

  it('a failing statement rolls back the ones before it, and the connection is usable after', async () => {
    await runTransactionScript(ds, [insert('x')]);
    const error = await runTransactionScript(ds, [insert('a'), insert('x'), insert('b')]).catch((e: unknown) => e);
    expect(isUniqueViolation(error)).toBe(true);
    expect(await ids()).toEqual(['x']);
    // Every pooled connection still works (none was left inside the failed transaction).
    await Promise.all(Array.from({ length: 20 }, (_, i) => runTransactionScript(ds, [insert(`p${String(i).padStart(2, '0')}`)])));
    expect(await ids()).toHaveLength(21);
  });

  it('commits only when the check passes', async () => {
    await runTransactionScript(ds, [insert('a')]);
    const update = { sql: 'UPDATE script_probe SET n = 5 WHERE id IN (?, ?)', parameters: ['a', 'missing'] };
    expect(await runTransactionScript(ds, [update, insert('b')], (affected) => affected[0] === 2)).toBeNull();
    expect(await ids()).toEqual(['a']);
    expect(await runTransactionScript(ds, [update, insert('b')], (affected) => affected[0] === 1)).toEqual([1, 1]);
    expect(await ids()).toEqual(['a', 'b']);
    expect(((await ds.query("SELECT n FROM script_probe WHERE id = 'a'")) as { n: number }[])[0]?.n).toBe(5);
  });

  describe('larger than one packet', () => {
    // 2 MB each: by the packet estimate (3 bytes per character) every statement goes in its own packet.
    const payload = 'p'.repeat(2 * 1024 * 1024);
    const bigInsert = (id: string) => ({ sql: 'INSERT INTO script_probe (id, n, payload) VALUES (?, 1, ?)', parameters: [id, payload] });

    it('sends the script in several packets of one transaction and commits them all', async () => {
      expect(await runTransactionScript(ds, [bigInsert('a'), bigInsert('b'), insert('c'), bigInsert('d')])).toEqual([1, 1, 1, 1]);
      expect(await ids()).toEqual(['a', 'b', 'c', 'd']);
      const [row] = (await ds.query("SELECT LENGTH(payload) AS n FROM script_probe WHERE id = 'd'")) as { n: number }[];
      expect(Number(row?.n)).toBe(payload.length);
    });

    it('a statement failing in a later packet rolls back the earlier packets', async () => {
      await runTransactionScript(ds, [insert('x')]);
      const error = await runTransactionScript(ds, [bigInsert('a'), bigInsert('b'), bigInsert('x')]).catch((e: unknown) => e);
      expect(isUniqueViolation(error)).toBe(true);
      expect(await ids()).toEqual(['x']);
    });

    it('commits after the check, or rolls every packet back', async () => {
      expect(await runTransactionScript(ds, [bigInsert('a'), bigInsert('b')], (affected) => affected.length === 3)).toBeNull();
      expect(await ids()).toEqual([]);
      expect(await runTransactionScript(ds, [bigInsert('a'), bigInsert('b')], (affected) => affected.every((n) => n === 1))).toEqual([1, 1]);
      expect(await ids()).toEqual(['a', 'b']);
    });
  });

  it('returns nothing for no statements', async () => {
    expect(await runTransactionScript(ds, [])).toEqual([]);
  });
});
