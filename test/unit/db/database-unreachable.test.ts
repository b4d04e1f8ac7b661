import { OperatorError } from '../../../src/common/start-failure';
import { databaseUnreachable } from '../../../src/db/open-database';
import type { DatabaseConfig } from '../../../src/config/config';

const mysql: DatabaseConfig = { type: 'mysql', url: 'mysql://pb:s3cret@db.example:3307/postbacks', host: 'db.example', port: 3307, user: 'pb', password: 's3cret', database: 'postbacks' };

function mysqlError(message: string, fields: { errno?: number; code?: string }): Error {
  return Object.assign(new Error(message), fields);
}

describe('databaseUnreachable', () => {
  it('turns access denied into one operator line naming user, host, port and database, never the password', () => {
    const result = databaseUnreachable(mysql, mysqlError("Access denied for user 'pb'@'10.0.0.2' (using password: YES)", { errno: 1045, code: 'ER_ACCESS_DENIED_ERROR' }));
    expect(result).toBeInstanceOf(OperatorError);
    expect((result as Error).message).toBe("cannot connect to the database of DATABASE_URL (mysql://pb@db.example:3307/postbacks): Access denied for user 'pb'@'10.0.0.2' (using password: YES)");
    expect((result as Error).message).not.toContain('s3cret');
  });

  it.each([['ECONNREFUSED'], ['ENOTFOUND'], ['ETIMEDOUT']])('turns %s into an operator line', (code) => {
    expect(databaseUnreachable(mysql, mysqlError(`connect ${code}`, { code }))).toBeInstanceOf(OperatorError);
  });

  it('leaves other errors, and SQLite ones, as they were', () => {
    const syntax = mysqlError('You have an error in your SQL syntax', { errno: 1064, code: 'ER_PARSE_ERROR' });
    expect(databaseUnreachable(mysql, syntax)).toBe(syntax);
    const refused = mysqlError('connect ECONNREFUSED', { code: 'ECONNREFUSED' });
    expect(databaseUnreachable({ type: 'sqlite', path: './x.sqlite' }, refused)).toBe(refused);
  });
});
