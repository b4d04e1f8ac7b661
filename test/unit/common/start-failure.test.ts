import { OperatorError, startFailureText } from '../../../src/common/start-failure';
import { SchemaNotReadyError } from '../../../src/db/open-database';

describe('startFailureText', () => {
  it('prints an operator error as its message on one line, without name or stack', () => {
    const text = startFailureText('failed to start', new SchemaNotReadyError('the database schema is behind: 1 migration(s) pending (X); apply them'));
    expect(text).toBe('failed to start: the database schema is behind: 1 migration(s) pending (X); apply them\n');
  });

  it('keeps the stack of an unforeseen error, which a bug report needs', () => {
    const error = new TypeError('boom');
    const text = startFailureText('migration failed', error);
    expect(text).toBe(`migration failed: ${error.stack}\n`);
    expect(text).toMatch(/^migration failed: TypeError: boom\n\s+at /);
  });

  it('prints a thrown non-Error as text', () => {
    expect(startFailureText('worker failed to start', 'no')).toBe('worker failed to start: no\n');
  });

  it('keeps the subclass name of an operator error for logs and instanceof', () => {
    const error = new SchemaNotReadyError('x');
    expect(error).toBeInstanceOf(OperatorError);
    expect(error.name).toBe('SchemaNotReadyError');
  });
});
