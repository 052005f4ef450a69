/**
 * Errors the domain and use cases throw on purpose. Each carries its HTTP meaning the way middy's
 * `http-error-handler` reads it (`statusCode`, `expose`), plus a stable machine `code` that becomes
 * the `"error"` field of the JSON error body. Anything that is not a `DomainError` is unexpected and
 * answered as a 500 without details.
 */
import type { LeadStatus } from './types.js';

export interface FieldIssue {
  /** Our field name (`phone`, `state`, `attributes`, …), not the caller's spelling. */
  field: string;
  message: string;
}

export interface DomainErrorOptions {
  statusCode: number;
  code: string;
  /** Whether the message may be shown to the caller; defaults to true for 4xx, false otherwise. */
  expose?: boolean;
  cause?: unknown;
}

export class DomainError extends Error {
  readonly statusCode: number;
  readonly code: string;
  readonly expose: boolean;

  constructor(message: string, options: DomainErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.statusCode = options.statusCode;
    this.code = options.code;
    this.expose = options.expose ?? options.statusCode < 500;
  }
}

/** 404. Also what another organization's ids answer, so their existence is not revealed. */
export class NotFoundError extends DomainError {
  constructor(message = 'Not found', cause?: unknown) {
    super(message, { statusCode: 404, code: 'not_found', cause });
  }
}

export class ConflictError extends DomainError {
  constructor(message = 'Conflict', cause?: unknown) {
    super(message, { statusCode: 409, code: 'conflict', cause });
  }
}

/** 400 with every problem listed by field (never only the first). */
export class ValidationError extends DomainError {
  readonly issues: FieldIssue[];

  constructor(issues: FieldIssue[], message = 'Validation failed') {
    super(message, { statusCode: 400, code: 'validation_failed' });
    this.issues = issues;
  }
}

/** 409: a lead status change the state machine (`leadStatus.ts`) does not allow. */
export class IllegalTransitionError extends DomainError {
  readonly from: LeadStatus;
  readonly to: LeadStatus;

  constructor(from: LeadStatus, to: LeadStatus, actor?: string) {
    super(`A lead cannot go from ${from} to ${to}${actor ? ` (${actor})` : ''}`, {
      statusCode: 409,
      code: 'illegal_transition',
    });
    this.from = from;
    this.to = to;
  }
}
