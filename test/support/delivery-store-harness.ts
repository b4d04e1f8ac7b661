// Every DeliveryStore adapter behind one harness, so one contract suite runs against each:
// the in-memory store, the portable TypeORM adapter on every test database, and the MySQL
// adapter on MySQL. Rows are seeded and read through the store; `patch` puts a row into a
// state no transition makes (a stray due time, a lease taken by another worker).
import pino from 'pino';
import type { DataSource } from 'typeorm';
import { DeliveryStatus, HttpMethod } from '../../src/common/enums';
import type { Clock } from '../../src/common/clock';
import { newId } from '../../src/common/ids';
import { parseDatabaseUrl } from '../../src/config/config';
import { createDataSource } from '../../src/db/data-source';
import { Delivery } from '../../src/deliveries/delivery.entity';
import type { DeliveryStore, DeliveryStoreOptions } from '../../src/deliveries/delivery-store';
import { MemoryDeliveryStore } from '../../src/deliveries/memory-delivery-store';
import { MysqlDeliveryStore } from '../../src/deliveries/mysql-delivery-store';
import { TypeOrmDeliveryStore } from '../../src/deliveries/typeorm-delivery-store';
import { generateSigningSecret } from '../../src/dispatch/signing';
import { createTestDatabase, type TestDatabase, testDatabases } from './databases';
import { seedApp, seedCallback, seedDeliveries, seedEvent } from './seed';

export type AdapterName = 'memory' | 'typeorm' | 'mysql';

export interface StoreHarnessSpec {
  label: string;
  adapter: AdapterName;
  database: 'sqlite' | 'mysql' | null;
}

/** memory; typeorm on every test database; mysql on MySQL. */
export function storeHarnessSpecs(): StoreHarnessSpec[] {
  const specs: StoreHarnessSpec[] = [{ label: 'the memory store', adapter: 'memory', database: null }];
  for (const kind of testDatabases()) {
    specs.push({ label: `the TypeORM store on ${kind}`, adapter: 'typeorm', database: kind });
    if (kind === 'mysql') specs.push({ label: 'the MySQL store on mysql', adapter: 'mysql', database: kind });
  }
  return specs;
}

export interface SeedOptions {
  timeoutMs?: number;
  maxAttempts?: number;
  signing?: boolean;
  dueAt?: (i: number) => Date;
}

export interface Seeded {
  callbackId: string;
  signingSecret: string | null;
  url: string;
  rows: Delivery[];
}

export interface StoreHarness {
  dataSource: DataSource | null;
  store(options: DeliveryStoreOptions, clock: Clock): DeliveryStore;
  /** `count` PENDING deliveries of one new callback, due at `now` (or `dueAt(i)`), queued through `store`. */
  seed(store: DeliveryStore, now: Date, count: number, options?: SeedOptions): Promise<Seeded>;
  patch(store: DeliveryStore, id: string, changes: Partial<Delivery>): Promise<void>;
  /** Makes every live delivery final, so a test's scans see only its own rows. */
  finishAll(store: DeliveryStore): Promise<void>;
  close(): Promise<void>;
}

const silent = pino({ level: 'silent' });

export async function openStoreHarness(spec: StoreHarnessSpec): Promise<StoreHarness> {
  if (spec.database === null) return memoryHarness();
  const database = await createTestDatabase(spec.database);
  const config = parseDatabaseUrl(database.url);
  const dataSource = createDataSource(config, { poolSize: 8 });
  await dataSource.initialize();
  await dataSource.runMigrations({ transaction: 'each' });
  return sqlHarness(spec, dataSource, database);
}

function memoryHarness(): StoreHarness {
  const stores: MemoryDeliveryStore[] = [];
  const callbacks = new Map<string, { signingSecret: string | null; maxAttempts: number }>();
  const memory = (store: DeliveryStore) => store as MemoryDeliveryStore;
  return {
    dataSource: null,
    store(options, clock) {
      // Each memory store has its own rows: a test seeds through the store it then uses.
      const store = new MemoryDeliveryStore(clock, options);
      for (const [id, callback] of callbacks) store.defineCallback(id, callback);
      stores.push(store);
      return store;
    },
    async seed(store, now, count, options = {}) {
      const callbackId = newId();
      const signingSecret = options.signing ?? true ? generateSigningSecret() : null;
      const callback = { signingSecret, maxAttempts: options.maxAttempts ?? 10 };
      callbacks.set(callbackId, callback);
      for (const s of stores) s.defineCallback(callbackId, callback);
      const eventId = newId();
      const url = 'https://postback.example/p';
      const rows = Array.from({ length: count }, (_, i) => {
        const due = options.dueAt ? options.dueAt(i) : now;
        return Object.assign(new Delivery(), {
          id: newId(),
          eventId,
          callbackId,
          appId: '01890000-0000-7000-8000-0000000000aa',
          networkId: null,
          status: DeliveryStatus.PENDING,
          method: HttpMethod.GET,
          url,
          body: null,
          headers: [],
          renderNotes: [],
          timeoutMs: options.timeoutMs ?? 10_000,
          attempts: 0,
          maxAttempts: callback.maxAttempts,
          lastStatusCode: null,
          lastError: null,
          nextAttemptAt: due,
          dueAt: due,
          leaseOwner: null,
          deliveredAt: null,
          createdAt: now,
          updatedAt: now,
        });
      });
      await store.queue(rows);
      return { callbackId, signingSecret, url, rows };
    },
    async patch(store, id, changes) {
      const row = await store.findById(id);
      if (!row) throw new Error(`no delivery ${id}`);
      memory(store).put(Object.assign(row, changes));
    },
    async finishAll(store) {
      for (const row of memory(store).all()) if (row.dueAt !== null) memory(store).put(Object.assign(row, { dueAt: null, status: DeliveryStatus.FAILED }));
    },
    async close() {},
  };
}

function sqlHarness(spec: StoreHarnessSpec, dataSource: DataSource, database: TestDatabase): StoreHarness {
  return {
    dataSource,
    store(options, clock) {
      return spec.adapter === 'mysql' ? new MysqlDeliveryStore(dataSource, clock, silent, options) : new TypeOrmDeliveryStore(dataSource, clock, silent, options);
    },
    async seed(_store, now, count, options = {}) {
      const app = await seedApp(dataSource);
      const callback = await seedCallback(dataSource, { appId: app.id, timeoutMs: options.timeoutMs, maxAttempts: options.maxAttempts, signing: options.signing ?? true });
      const event = await seedEvent(dataSource, app.id);
      const rows = await seedDeliveries(dataSource, { event, callback, count, now });
      if (options.dueAt) {
        for (const [i, row] of rows.entries()) {
          const due = options.dueAt(i);
          await dataSource.getRepository(Delivery).update({ id: row.id }, { dueAt: due, nextAttemptAt: due });
          Object.assign(row, { dueAt: due, nextAttemptAt: due });
        }
      }
      return { callbackId: callback.id, signingSecret: callback.signingSecret, url: callback.urlTemplate, rows };
    },
    async patch(_store, id, changes) {
      await dataSource.getRepository(Delivery).update({ id }, changes as never);
    },
    async finishAll() {
      await dataSource.createQueryBuilder().update(Delivery).set({ dueAt: null, status: DeliveryStatus.FAILED }).where('dueAt IS NOT NULL').execute();
    },
    async close() {
      await dataSource.destroy();
      await database.drop();
    },
  };
}
