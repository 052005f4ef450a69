/**
 * Phones and emails never reach the logs: the shared Powertools logger's replacer masks them by key and
 * inside any string, nested attributes and formatted errors included, without touching ids and times.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { logger, redact, redactLogValue } from '../../functions/powertools.js';

let lines: string[];

beforeEach(() => {
  lines = [];
  logger.setLogLevel('DEBUG');
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
});
afterEach(() => {
  vi.restoreAllMocks();
});

const PHONES = [
  '+14155552671',
  '(415) 555-2671',
  '415-555-2671',
  '415.555.2671',
  '1-415-555-2671',
  '+44 20 7183 8750',
];
const EMAILS = ['ada@example.com', 'First.Last+tag@sub.example.co.uk'];

describe('log redaction', () => {
  it('masks phones and emails in messages, attributes, nested objects and errors', () => {
    logger.info(`New lead ${PHONES[0]} from ${EMAILS[0]}`, {
      lead: { phone: '4155552671', email: EMAILS[1], firstName: 'Ada', lastName: 'Lovelace' },
      note: `call ${PHONES[1]} or ${PHONES[2]} / ${PHONES[3]} / ${PHONES[4]} / ${PHONES[5]}`,
      phoneNumbers: ['+14155552671', '+14155552672'],
      error: new Error(`duplicate key value (phone)=(${PHONES[0]}) for ${EMAILS[0]}`),
    });
    const out = lines.join('');
    expect(out).not.toBe('');
    for (const p of [...PHONES, '4155552671', '4155552672']) expect(out).not.toContain(p);
    for (const e of EMAILS) expect(out).not.toContain(e);
    for (const name of ['Ada', 'Lovelace']) expect(out).not.toContain(name);
    const line = JSON.parse(out.trim().split('\n')[0]!);
    expect(line.lead.phone).toBe('[redacted]');
    expect(line.lead.email).toBe('[redacted]');
    expect(line.message).toBe('New lead [phone] from [email]');
    expect(line.error.message).toContain('[phone]');
  });

  it('leaves ids, timestamps and counts as they are', () => {
    const ids = {
      leadId: '0196a2b4-1c2d-7e3f-8a9b-0c1d2e3f4a5b',
      orgId: '00000000-0000-4000-8000-000000000001',
      at: '2026-01-14T23:50:00.000Z',
      day: '2026-01-14',
      count: 4155552671,
      messageId: 'a1b2c3d4-0000-4000-8000-123456789012',
      stack: 'at process (file:///app/node_modules/@aws-lambda-powertools/batch/lib/esm/index.js:171:28)',
    };
    logger.info('Allocated', ids);
    const line = JSON.parse(lines.join('').trim());
    expect(line).toMatchObject(ids);
  });

  it('redact() and the replacer agree on plain text', () => {
    expect(redact('reach me at (212) 555-0143 or me@x.io')).toBe('reach me at [phone] or [email]');
    expect(redactLogValue('email', 'x')).toBe('[redacted]');
    expect(redactLogValue('mobile', 4155552671)).toBe('[redacted]');
    expect(redactLogValue('count', 4155552671)).toBe(4155552671);
  });
});
