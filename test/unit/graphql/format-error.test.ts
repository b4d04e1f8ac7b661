import { GraphQLError } from 'graphql';
import pino from 'pino';
import { badInputDetails, createFormatError } from '../../../src/graphql/format-error';
import { BadUserInputError, NotFoundError } from '../../../src/common/errors';
import { DateTimeScalar } from '../../../src/graphql/scalars';

describe('formatError', () => {
  const format = createFormatError(pino({ level: 'silent' }));

  it('keeps a domain error\'s code and details', () => {
    const error = BadUserInputError.field('input.name', 'must not be empty');
    expect(format({ message: 'x', path: ['createApp'] }, error)).toMatchObject({
      message: 'input.name: must not be empty', extensions: { code: 'BAD_USER_INPUT', field: 'input.name', reason: 'must not be empty' },
    });
    expect(format({ message: 'x' }, new NotFoundError('app', 'a1')).extensions).toEqual({ code: 'NOT_FOUND', id: 'a1' });
  });

  it('masks anything else as INTERNAL_SERVER_ERROR', () => {
    const formatted = format({ message: 'ER_NO_SUCH_TABLE: secret details', path: ['apps'] }, new Error('ER_NO_SUCH_TABLE: secret details'));
    expect(formatted).toEqual({ message: 'Internal server error', path: ['apps'], extensions: { code: 'INTERNAL_SERVER_ERROR' } });
  });

  it('turns a literal of the wrong type into BAD_USER_INPUT', () => {
    const formatted = format({ message: 'Expected value of type "Int!", found "x".', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }, new GraphQLError('x'));
    expect(formatted.extensions?.code).toBe('BAD_USER_INPUT');
    expect(format({ message: 'Cannot query field "nope" on type "Query".', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }, new GraphQLError('x')).extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it.each([
    ['Variable "$input" got invalid value "yesterday" at "input.occurredAt"; DateTime must be an ISO-8601 string', 'input.occurredAt'],
    ['Variable "$inputs" got invalid value [1] at "inputs[0]"; Expected type "RecordEventInput" to be an object.', 'inputs[0]'],
    ['Variable "$first" got invalid value 99999999999; Int cannot represent non 32-bit signed integer value', 'first'],
    ['Variable "$input" of required type "CreateAppInput!" was not provided.', 'input'],
  ])('names the field of %p', (message, field) => {
    expect(badInputDetails(message)).toEqual({ field, reason: message });
  });
});

describe('DateTime', () => {
  it.each(['2026-11-25T18:00:00.000Z', '2024-02-29T00:00:00Z', '2026-11-25T18:00+01:00', '2026-12-31T23:59:59.999-05:00'])('accepts %s', (value) => {
    expect(DateTimeScalar.parseValue(value)).toEqual(new Date(value));
  });

  it.each(['2026-02-30T00:00:00Z', '2025-02-29T00:00:00Z', '2026-13-01T00:00:00Z', '2026-11-25T24:00:00Z', '2026-11-25T18:60:00Z', '2026-11-25T18:00:00', '2026-11-25', 'yesterday', 1764093600])('refuses %p', (value) => {
    expect(() => DateTimeScalar.parseValue(value)).toThrow(GraphQLError);
  });
});
