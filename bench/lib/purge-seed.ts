// The purge phase's backlog: rows older than the retention window, written straight into the
// benchmark database (after its migrations ran, before the service starts): an app and a
// callback of their own, and events each with one DELIVERED delivery and one attempt. Ids are
// the service's own (UUIDv7, time-ordered), so the rows land at the end of each index as the
// service's would, not at random places in it.
import { newId } from '../../src/common/ids';
import type { BenchDb } from './database';
import { openSqlite } from './sqlite';

const CHUNK = 2000;

type Row = Record<string, unknown>;

/** Seeds about `rows` rows (a third each: event, delivery, delivery_attempt) `ageDays` old. */
export async function seedOldRows(db: BenchDb, rows: number, ageDays: number): Promise<number> {
  const per = Math.ceil(rows / 3);
  const at = new Date(Date.now() - ageDays * 86_400_000).toISOString().replace('T', ' ').replace('Z', '');
  const appId = newId();
  const callbackId = newId();
  const writer = await openWriter(db);
  try {
    await writer.insert('app', [{ id: appId, name: 'purge backlog', bundleId: `com.bench.purge.${Date.now()}`, platform: 'IOS', createdAt: at, updatedAt: at, deletedAt: null, isLive: 1 }]);
    await writer.insert('callback', [{
      id: callbackId, appId, networkId: null, name: 'old', enabled: 1, method: 'GET', urlTemplate: 'http://127.0.0.1:9/old', bodyTemplate: null,
      headers: '[]', eventNames: '["old"]', attributedOnly: 0, maxAttempts: 3, timeoutMs: 5000, signingSecret: null, createdAt: at, updatedAt: at, deletedAt: null,
    }]);
    for (let done = 0; done < per; done += CHUNK) {
      const n = Math.min(CHUNK, per - done);
      const events: Row[] = [];
      const deliveries: Row[] = [];
      const attempts: Row[] = [];
      for (let i = 0; i < n; i++) {
        const eventId = newId();
        const deliveryId = newId();
        events.push({
          id: eventId, appId, eventId: `old-${done + i}`, name: 'old', occurredAt: at, receivedAt: at, advertisingId: null, ipAddress: null, userAgent: null,
          country: null, platform: 'IOS', campaignId: null, networkId: null, networkSlug: null, revenue: null, currency: null, limitAdTracking: 0, params: null,
        });
        deliveries.push({
          id: deliveryId, eventId, callbackId, appId, networkId: null, status: 'DELIVERED', method: 'GET', url: 'http://127.0.0.1:9/old', body: null, headers: '[]',
          timeoutMs: 5000, attempts: 1, maxAttempts: 3, lastStatusCode: 200, lastError: null, nextAttemptAt: null, dueAt: null, leaseOwner: null,
          deliveredAt: at, createdAt: at, updatedAt: at,
        });
        attempts.push({ id: newId(), deliveryId, number: 1, startedAt: at, statusCode: 200, latencyMs: 3, error: null, responseSnippet: 'ok' });
      }
      await writer.insert('event', events);
      await writer.insert('delivery', deliveries);
      await writer.insert('delivery_attempt', attempts);
    }
    return per * 3;
  } finally {
    await writer.close();
  }
}

interface Writer {
  insert(table: string, rows: Row[]): Promise<void>;
  close(): Promise<void>;
}

async function openWriter(db: BenchDb): Promise<Writer> {
  if (db.kind === 'sqlite') {
    const sqlite = openSqlite(db.url.slice('sqlite:'.length), { fileMustExist: true });
    sqlite.pragma('busy_timeout = 5000');
    return {
      async insert(table, rows) {
        const columns = Object.keys(rows[0] as Row);
        const statement = sqlite.prepare(`INSERT INTO "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`);
        sqlite.exec('BEGIN');
        for (const row of rows) statement.run(...columns.map((c) => row[c]));
        sqlite.exec('COMMIT');
      },
      async close() {
        sqlite.close();
      },
    };
  }
  const mysql = await import('mysql2/promise');
  const url = new URL(db.url);
  const connection = await mysql.createConnection({
    host: url.hostname, port: Number(url.port || 3306), user: decodeURIComponent(url.username || 'root'), password: decodeURIComponent(url.password),
    database: decodeURIComponent(url.pathname.slice(1)), timezone: 'Z',
  });
  return {
    async insert(table, rows) {
      const columns = Object.keys(rows[0] as Row);
      const tuple = `(${columns.map(() => '?').join(', ')})`;
      await connection.query(
        `INSERT INTO \`${table}\` (${columns.map((c) => `\`${c}\``).join(', ')}) VALUES ${rows.map(() => tuple).join(', ')}`,
        rows.flatMap((row) => columns.map((c) => row[c])),
      );
    },
    close: () => connection.end(),
  };
}
