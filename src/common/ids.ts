import { randomBytes } from 'node:crypto';

/**
 * UUIDv7 (RFC 9562): time-ordered, so ids sort by creation time. Deliveries page
 * newest-first by id, and new rows land at one end of the index instead of at random.
 * Within one millisecond a counter in the random bits keeps ids from one process increasing.
 */
let lastMs = 0;
let sequence = 0;

/** Random bytes for this many ids are drawn at once: one randomBytes call costs as much as the rest of newId. */
const RANDOM_POOL_IDS = 256;
let randomPool = Buffer.alloc(0);
let randomOffset = 0;

function random16(): Buffer {
  if (randomOffset + 16 > randomPool.length) {
    randomPool = randomBytes(16 * RANDOM_POOL_IDS);
    randomOffset = 0;
  }
  const bytes = randomPool.subarray(randomOffset, randomOffset + 16);
  randomOffset += 16;
  return bytes;
}

export function newId(now: number = Date.now()): string {
  const bytes = random16();
  if (now <= lastMs) {
    now = lastMs;
    sequence = (sequence + 1) & 0xfff;
    if (sequence === 0) now = ++lastMs;
  } else {
    lastMs = now;
    sequence = bytes.readUInt16BE(6) & 0x7ff; // start low so the counter has room
  }
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = 0x70 | (sequence >> 8);
  bytes[7] = sequence & 0xff;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}
