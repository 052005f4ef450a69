/**
 * HTTP-level errors (authentication, body limits, rate limits). Domain errors (`functions/domain/errors.ts`)
 * carry their own status; both share the `{ statusCode, code, expose }` shape the error middleware reads.
 */
export class HttpError extends Error {
  readonly expose = true;
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
    readonly issues?: { field: string; message: string }[],
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const unauthorized = (message = 'Missing or invalid credentials') =>
  new HttpError(401, 'unauthorized', message);
export const payloadTooLarge = (limit: number) =>
  new HttpError(413, 'payload_too_large', `Body exceeds the ${limit}-byte limit`);
export const badRequest = (message: string, issues?: { field: string; message: string }[]) =>
  new HttpError(400, 'validation_failed', message, {}, issues);
export const notFound = (message = 'Not found') => new HttpError(404, 'not_found', message);
