import { Writable } from 'node:stream';
import { QueryFailedError } from 'typeorm';
import { createLogger } from '../../../src/common/logger';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: createLogger({ logLevel: 'info', logPretty: false }, stream), lines };
}

describe('createLogger', () => {
  it('never writes the statement or bound values of a database error', () => {
    const { logger, lines } = capture();
    const driverError = Object.assign(new Error("Data too long for column 'headers' at row 1"), {
      code: 'ER_DATA_TOO_LONG',
      errno: 1406,
      sql: "INSERT INTO `callback` VALUES ('whsec_c2VjcmV0', 'https://n.example/?key=partner-key')",
    });
    const error = new QueryFailedError('INSERT INTO `callback` VALUES (?, ?)', ['whsec_c2VjcmV0', 'https://n.example/?key=partner-key'], driverError);
    logger.error({ err: new Error('wrapped', { cause: error }) }, 'internal error');
    logger.error({ err: error }, 'internal error');
    const written = lines.join('');
    expect(written).not.toContain('whsec_');
    expect(written).not.toContain('partner-key');
    expect(written).toContain('ER_DATA_TOO_LONG');
    expect(written).toContain('Data too long');
  });

  it('redacts secrets and Authorization headers', () => {
    const { logger, lines } = capture();
    logger.info({ secret: 'pb_admin_x', signingSecret: 'whsec_y', headers: { authorization: 'Bearer pb_sdk_z' }, key: { secret: 'pb_partner_w' } }, 'x');
    const written = lines.join('');
    for (const leaked of ['pb_admin_x', 'whsec_y', 'pb_sdk_z', 'pb_partner_w']) expect(written).not.toContain(leaked);
  });
});
