import pino, { Logger } from 'pino';
import type { Config } from '../config/config';

export type { Logger };

/** Structured JSON logs; pretty-printed when LOG_PRETTY is set. Secrets are redacted wherever they could appear. */
export function createLogger(config: Pick<Config, 'logLevel' | 'logPretty'>): Logger {
  return pino({
    level: config.logLevel,
    base: { service: 'postback-service' },
    redact: {
      paths: ['authorization', 'headers.authorization', 'req.headers.authorization', 'secret', 'signingSecret', '*.secret', '*.signingSecret'],
      censor: '[redacted]',
    },
    transport: config.logPretty ? { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' } } : undefined,
  });
}
