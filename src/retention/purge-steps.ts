import { DataSource, EntityManager } from 'typeorm';
import { dbTime } from '../db/data-source';
import { withTransaction } from '../db/transactions';
import { deleteExpiredTouchpoints } from '../attribution/touchpoint.statements';
import { affectedRows, NO_DELIVERY_REFERS_TO, purgeFinishedDeliveries } from '../deliveries/delivery-purge';

// What retention deletes, as an ordered list of steps: each step deletes one bounded batch of
// rows older than the cutoff whose dependents are already gone, and runs again until a batch
// comes back short. Children before parents: deliveries (with their attempts), then events,
// then soft-deleted configuration whose history is gone. A new table with history (e.g.
// attribution touchpoints) is one more entry, placed before what it references.
//
// Identifiers are backquoted: MySQL's quoting, which SQLite accepts too.

export interface PurgeBatch {
  dataSource: DataSource;
  /** Rows older than this are purged. */
  cutoff: Date;
  /** The time of the run (touchpoints go when their memory has ended, whatever the window). */
  now: Date;
  /** At most this many rows of the step's table per batch. */
  limit: number;
}

export interface PurgeStep {
  /** The step's table: the batch is short (the step is done) when fewer rows than `limit` went. */
  table: string;
  /** Deletes one batch; returns rows deleted per table (a step may delete dependents too). */
  runBatch(batch: PurgeBatch): Promise<Record<string, number>>;
}

const marks = (n: number) => new Array(n).fill('?').join(', ');

/** Events received before the cutoff with no delivery left: none in progress, the finished ones already purged. */
export const SELECT_PURGEABLE_EVENT_IDS =
  `SELECT \`id\` FROM \`event\` WHERE \`receivedAt\` < ? AND ${NO_DELIVERY_REFERS_TO('eventId', 'event')} ORDER BY \`receivedAt\` LIMIT ?`;
export const DELETE_EVENTS = (n: number) =>
  `DELETE FROM \`event\` WHERE \`id\` IN (${marks(n)}) AND ${NO_DELIVERY_REFERS_TO('eventId', 'event')}`;

const CALLBACK_HISTORY_GONE = NO_DELIVERY_REFERS_TO('callbackId', 'callback');
export const SELECT_PURGEABLE_CALLBACK_IDS = `SELECT \`id\` FROM \`callback\` WHERE \`deletedAt\` IS NOT NULL AND \`deletedAt\` < ? AND ${CALLBACK_HISTORY_GONE} LIMIT ?`;
export const DELETE_CALLBACKS = (n: number) => `DELETE FROM \`callback\` WHERE \`id\` IN (${marks(n)}) AND \`deletedAt\` IS NOT NULL AND ${CALLBACK_HISTORY_GONE}`;

/** Revoked keys bound to a soft-deleted app or network: they go before their app or network can. */
const KEY_OF_DELETED_OWNER =
  '((`appId` IS NOT NULL AND EXISTS (SELECT 1 FROM `app` WHERE `app`.`id` = `api_key`.`appId` AND `app`.`deletedAt` IS NOT NULL)) OR ' +
  '(`networkId` IS NOT NULL AND EXISTS (SELECT 1 FROM `network` WHERE `network`.`id` = `api_key`.`networkId` AND `network`.`deletedAt` IS NOT NULL)))';
export const SELECT_PURGEABLE_API_KEY_IDS = `SELECT \`id\` FROM \`api_key\` WHERE \`revokedAt\` IS NOT NULL AND \`revokedAt\` < ? AND ${KEY_OF_DELETED_OWNER} LIMIT ?`;
export const DELETE_API_KEYS = (n: number) => `DELETE FROM \`api_key\` WHERE \`id\` IN (${marks(n)}) AND \`revokedAt\` IS NOT NULL AND ${KEY_OF_DELETED_OWNER}`;

/** Its macros go with it (ON DELETE CASCADE). */
const APP_HISTORY_GONE =
  'NOT EXISTS (SELECT 1 FROM `event` WHERE `event`.`appId` = `app`.`id`) AND NOT EXISTS (SELECT 1 FROM `callback` WHERE `callback`.`appId` = `app`.`id`) AND ' +
  `${NO_DELIVERY_REFERS_TO('appId', 'app')} AND NOT EXISTS (SELECT 1 FROM \`api_key\` WHERE \`api_key\`.\`appId\` = \`app\`.\`id\`)`;
export const SELECT_PURGEABLE_APP_IDS = `SELECT \`id\` FROM \`app\` WHERE \`deletedAt\` IS NOT NULL AND \`deletedAt\` < ? AND ${APP_HISTORY_GONE} LIMIT ?`;
export const DELETE_APPS = (n: number) => `DELETE FROM \`app\` WHERE \`id\` IN (${marks(n)}) AND \`deletedAt\` IS NOT NULL AND ${APP_HISTORY_GONE}`;

/**
 * Events naming a network: only those before the cutoff need looking at (through
 * IDX_event_received), since a deleted network gets no new events and this network was
 * deleted before the cutoff.
 */
const NETWORK_HISTORY_GONE = (cutoffMark: string) =>
  'NOT EXISTS (SELECT 1 FROM `callback` WHERE `callback`.`networkId` = `network`.`id`) AND ' +
  `${NO_DELIVERY_REFERS_TO('networkId', 'network')} AND ` +
  `NOT EXISTS (SELECT 1 FROM \`event\` WHERE \`event\`.\`receivedAt\` < ${cutoffMark} AND \`event\`.\`networkId\` = \`network\`.\`id\`) AND ` +
  'NOT EXISTS (SELECT 1 FROM `api_key` WHERE `api_key`.`networkId` = `network`.`id`)';
export const SELECT_PURGEABLE_NETWORK_IDS = `SELECT \`id\` FROM \`network\` WHERE \`deletedAt\` IS NOT NULL AND \`deletedAt\` < ? AND ${NETWORK_HISTORY_GONE('?')} LIMIT ?`;
export const DELETE_NETWORKS = (n: number) =>
  `DELETE FROM \`network\` WHERE \`id\` IN (${marks(n)}) AND \`deletedAt\` IS NOT NULL AND \`deletedAt\` < ? AND ${NETWORK_HISTORY_GONE('?')}`;

/** One batch of a table whose rows have no dependents left: select the ids, delete them again guarded by the same rule. */
function selectThenDelete(
  table: string,
  select: string,
  remove: (n: number) => string,
  options: { cutoffTwice?: boolean; cutoffInDelete?: boolean } = {},
): PurgeStep {
  return {
    table,
    async runBatch({ dataSource, cutoff, limit }) {
      const time = dbTime(dataSource, cutoff);
      const selectParameters = options.cutoffTwice ? [time, time, limit] : [time, limit];
      const rows: Array<{ id: string }> = await dataSource.query(select, selectParameters);
      if (rows.length === 0) return { [table]: 0 };
      const ids = rows.map((row) => row.id);
      const parameters = options.cutoffInDelete ? [...ids, time, time] : ids;
      const deleted = await withTransaction(dataSource, (manager: EntityManager) => affectedRows(manager, remove(ids.length), parameters));
      return { [table]: deleted };
    },
  };
}

export const DELIVERY_STEP: PurgeStep = {
  table: 'delivery',
  runBatch: ({ dataSource, cutoff, limit }) => purgeFinishedDeliveries(dataSource, cutoff, limit).then((purged) => ({ ...purged })),
};

/** Touchpoints whose memory has ended: no later event can be attributed through them. */
export const TOUCHPOINT_STEP: PurgeStep = {
  table: 'attribution_touchpoint',
  runBatch: async ({ dataSource, now, limit }) => ({ attribution_touchpoint: await deleteExpiredTouchpoints(dataSource, now, limit) }),
};

export const PURGE_STEPS: readonly PurgeStep[] = [
  DELIVERY_STEP,
  TOUCHPOINT_STEP,
  selectThenDelete('event', SELECT_PURGEABLE_EVENT_IDS, DELETE_EVENTS),
  selectThenDelete('callback', SELECT_PURGEABLE_CALLBACK_IDS, DELETE_CALLBACKS),
  selectThenDelete('api_key', SELECT_PURGEABLE_API_KEY_IDS, DELETE_API_KEYS),
  selectThenDelete('app', SELECT_PURGEABLE_APP_IDS, DELETE_APPS),
  selectThenDelete('network', SELECT_PURGEABLE_NETWORK_IDS, DELETE_NETWORKS, { cutoffTwice: true, cutoffInDelete: true }),
];
