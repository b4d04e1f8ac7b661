import { insertStatement } from '../../../src/db/bulk-insert';

describe('insertStatement', () => {
  it('has one placeholder per column and row', () => {
    expect(insertStatement('`event`', ['`id`', '`name`'], 3)).toBe('INSERT INTO `event` (`id`, `name`) VALUES (?, ?), (?, ?), (?, ?)');
  });

  it('writes a single row', () => {
    expect(insertStatement('"t"', ['"a"'], 1)).toBe('INSERT INTO "t" ("a") VALUES (?)');
  });

  it('refuses an empty statement', () => {
    expect(() => insertStatement('t', [], 1)).toThrow();
    expect(() => insertStatement('t', ['a'], 0)).toThrow();
  });
});
