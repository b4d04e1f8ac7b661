import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import { GraphQLJSONObject } from 'graphql-scalars';

// Strict ISO-8601 with a time zone: a date-time without one is ambiguous and would be read
// in the server's zone, which is how postbacks end up an hour off.
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

function parseDateTime(value: unknown): Date {
  if (typeof value !== 'string' || !ISO_DATE_TIME.test(value)) {
    throw new GraphQLError(`DateTime must be an ISO-8601 string with a time zone, e.g. 2026-11-25T18:00:00.000Z; got ${JSON.stringify(value)}`);
  }
  const date = new Date(value);
  if (Number.isNaN(date.getTime()) || !isCalendarDate(value)) throw new GraphQLError(`DateTime ${JSON.stringify(value)} is not a real date`);
  return date;
}

/** Date.parse rolls 2026-02-30 over to March 2nd; a date the calendar does not have is an error instead. */
function isCalendarDate(value: string): boolean {
  const [, year, month, day, hour, minute, second] = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?/.exec(value)!.map(Number);
  const noon = new Date(Date.UTC(year, month - 1, day, 12));
  return noon.getUTCFullYear() === year && noon.getUTCMonth() === month - 1 && noon.getUTCDate() === day && hour < 24 && minute < 60 && (Number.isNaN(second) || second < 60);
}

export const DateTimeScalar = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  description: 'ISO-8601 date-time in UTC, e.g. 2026-11-25T18:00:00.000Z',
  serialize(value) {
    const date = value instanceof Date ? value : new Date(value as string);
    if (Number.isNaN(date.getTime())) throw new GraphQLError('DateTime cannot represent an invalid date');
    return date.toISOString();
  },
  parseValue: parseDateTime,
  // Errors carry the literal's node: graphql-js reports a GraphQLError from here as it is, and
  // format-error.ts names the field from the node's position.
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING) throw new GraphQLError('DateTime must be a string', { nodes: ast });
    try {
      return parseDateTime(ast.value);
    } catch (error) {
      throw new GraphQLError((error as Error).message, { nodes: ast });
    }
  },
});

export const JSONObjectScalar = GraphQLJSONObject;
