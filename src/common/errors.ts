// Domain errors carry a contract error code; src/graphql/format-error.ts is the one place
// that turns them into GraphQL errors with `extensions.code`.

export enum ErrorCode {
  BAD_USER_INPUT = 'BAD_USER_INPUT',
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  FORBIDDEN = 'FORBIDDEN',
  NOT_FOUND = 'NOT_FOUND',
  CONFLICT = 'CONFLICT',
  NOT_IMPLEMENTED = 'NOT_IMPLEMENTED',
  /** The key's request budget is spent for now (HTTP 429 with Retry-After). */
  RATE_LIMITED = 'RATE_LIMITED',
  /** One operation would cost more than MAX_QUERY_COST. */
  QUERY_TOO_COSTLY = 'QUERY_TOO_COSTLY',
  /** More operations on one WebSocket than WS_MAX_SUBSCRIPTIONS_PER_CONNECTION. */
  SUBSCRIPTION_LIMIT = 'SUBSCRIPTION_LIMIT',
}

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** One invalid field. `field` is a dot path into the input, e.g. `input.urlTemplate` or `inputs.3.country`. */
export interface FieldProblem {
  field: string;
  reason: string;
}

export class BadUserInputError extends DomainError {
  constructor(readonly problems: FieldProblem[]) {
    super(
      ErrorCode.BAD_USER_INPUT,
      problems.map((p) => `${p.field}: ${p.reason}`).join('; '),
      { field: problems[0]?.field, reason: problems[0]?.reason, problems },
    );
  }

  /** Adds machine-readable details (e.g. the list of unknown macro names) to the error's extensions. */
  withDetails(details: Record<string, unknown>): this {
    Object.assign(this.details, details);
    return this;
  }

  static field(field: string, reason: string): BadUserInputError {
    return new BadUserInputError([{ field, reason }]);
  }
}

export class NotFoundError extends DomainError {
  constructor(what: string, id: string) {
    super(ErrorCode.NOT_FOUND, `${what} ${id} not found`, { id });
  }
}

export class ConflictError extends DomainError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(ErrorCode.CONFLICT, message, details);
  }
}

export class ForbiddenError extends DomainError {
  constructor(message = 'this API key may not do that') {
    super(ErrorCode.FORBIDDEN, message);
  }
}

export class UnauthenticatedError extends DomainError {
  constructor(message = 'missing or invalid API key') {
    super(ErrorCode.UNAUTHENTICATED, message);
  }
}

/** Collects field problems so a whole input is reported at once, not one error per round trip. */
export class ProblemList {
  readonly problems: FieldProblem[] = [];

  add(field: string, reason: string): void {
    this.problems.push({ field, reason });
  }

  throwIfAny(): void {
    if (this.problems.length > 0) throw new BadUserInputError(this.problems);
  }
}
