/**
 * Shared Powertools setup, created once per cold start. Logs are structured JSON; phones and emails
 * never reach them (see `redact`).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? 'leadrouter';

export const logger = new Logger({
  serviceName,
  logLevel: (process.env.POWERTOOLS_LOG_LEVEL ?? process.env.LOG_LEVEL ?? 'INFO') as 'INFO',
  // Runs on every key and value of every log line, nested ones and formatted errors included.
  jsonReplacerFn: redactLogValue,
});
export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'leadrouter',
  serviceName,
});
export const tracer = new Tracer({
  serviceName,
  enabled: process.env.AWS_LAMBDA_FUNCTION_NAME !== undefined && process.env.LOCAL_RUNTIME !== '1',
});

// E.164 and international numbers written with a plus; North American numbers in their usual spellings
// ("(415) 555-2671", "415.555.2671", "1-415-555-2671", "4155552671"). The look-arounds keep ids,
// ISO timestamps and UUIDs (digits inside a longer word or dash-joined run) untouched.
const PHONE = /\+\d[\d\s().-]{6,}\d|(?<![\w.-])(?:1[\s.-]?)?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}(?![\w-])/g;
// No "/" on either side: `node_modules/@scope/pkg/file.js` in a stack trace is not an address.
const EMAIL = /[^\s@"'<>()[\]{},;:/\\]+@[^\s@"'<>()[\]{},;:/\\]+\.[A-Za-z]{2,}/g;
/** Keys whose values are a person's contact data whatever they look like. */
const PERSONAL_KEY = /phone|e-?mail|mobile|^cell$|^tel$|telephone|^(first|last|full)_?name$|^[fl]name$/i;

/** Masks phone numbers and email addresses inside free text before it is logged. */
export function redact(text: string): string {
  return text.replace(EMAIL, '[email]').replace(PHONE, '[phone]');
}

/**
 * The logger's JSON replacer: values under personal keys (`phone`, `email`, `firstName`, …) become
 * `[redacted]`, and phones and emails inside any other string (messages, error texts, SQL errors that
 * quote a value) are masked. Numbers are left alone: a count or a timestamp is not a phone.
 */
export function redactLogValue(key: string, value: unknown): unknown {
  if (key && PERSONAL_KEY.test(key)) {
    if (Array.isArray(value)) return value.map(() => '[redacted]');
    if (value !== null && value !== undefined && typeof value !== 'object') return '[redacted]';
  }
  return typeof value === 'string' ? redact(value) : value;
}
