import pino, { DestinationStream, Logger } from 'pino';
import type { Config } from '../config/config';

export type { Logger };

/**
 * Error properties that database drivers fill with the statement and its bound values:
 * TypeORM's QueryFailedError (`query`, `parameters`), mysql2 (`sql`, formatted with the values).
 * Those values are signing secrets, partners' keys in rendered URLs and headers, advertising
 * ids and IP addresses: never logged.
 */
export const ERROR_FIELDS_NOT_LOGGED: readonly string[] = ['query', 'parameters', 'sql', 'values'];

/** pino's error serializer, minus the fields above, on the error, its driverError and its causes. */
export function serializeError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const serialized = pino.stdSerializers.err(error) as unknown as Record<string, unknown>;
  return scrub(serialized, 0);
}

function scrub(value: Record<string, unknown>, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    if (ERROR_FIELDS_NOT_LOGGED.includes(key)) continue;
    out[key] = depth < 4 && field !== null && typeof field === 'object' && !Array.isArray(field) ? scrub(field as Record<string, unknown>, depth + 1) : field;
  }
  return out;
}

/** Structured JSON logs; pretty-printed when LOG_PRETTY is set. Secrets are redacted wherever they could appear. */
export function createLogger(config: Pick<Config, 'logLevel' | 'logPretty'>, destination?: DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level: config.logLevel,
    base: { service: 'postback-service' },
    serializers: { err: serializeError, error: serializeError },
    redact: {
      paths: ['authorization', 'headers.authorization', 'req.headers.authorization', 'secret', 'signingSecret', '*.secret', '*.signingSecret'],
      censor: '[redacted]',
    },
    transport: config.logPretty && !destination ? { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' } } : undefined,
  };
  return destination ? pino(options, destination) : pino(options);
}
