/**
 * The dashboard's pure helpers, without a browser: the Analytics window (days start at midnight in the
 * zone shown, across clock changes), chart axis labels, and form messages in readable words.
 */
import { describe, expect, it } from 'vitest';
import { analyticsWindow, startOfDay, zoneOffsetMs } from '../../../web/src/analytics.js';
import { axisLabelLines } from '../../../web/src/components/charts.js';
import { readableIssue } from '../../../web/src/messages.js';

describe('analytics window', () => {
  it('knows a zone’s offset on either side of a clock change', () => {
    expect(zoneOffsetMs(new Date('2026-07-01T12:00:00Z'), 'America/New_York')).toBe(-4 * 3_600_000);
    expect(zoneOffsetMs(new Date('2026-12-01T12:00:00Z'), 'America/New_York')).toBe(-5 * 3_600_000);
    expect(zoneOffsetMs(new Date('2026-12-01T12:00:00Z'), 'Asia/Kolkata')).toBe(5.5 * 3_600_000);
  });

  it('starts days at local midnight, also the day before New York falls back', () => {
    const now = new Date('2026-11-02T12:00:00Z'); // Monday 07:00 EST; Sunday 1 Nov was 25 hours long
    expect(startOfDay(now, 'America/New_York').toISOString()).toBe('2026-11-02T05:00:00.000Z');
    expect(startOfDay(now, 'America/New_York', 1).toISOString()).toBe('2026-11-01T04:00:00.000Z');
    expect(startOfDay(now, 'America/New_York', 6).toISOString()).toBe('2026-10-27T04:00:00.000Z');
    // Just after midnight in Tokyo it is still yesterday in UTC.
    expect(startOfDay(new Date('2026-03-09T15:30:00Z'), 'Asia/Tokyo').toISOString()).toBe(
      '2026-03-09T15:00:00.000Z',
    );
  });

  it('asks for the last 24 hours by hour, or today and six whole days before it by day', () => {
    const now = new Date('2026-11-02T12:00:00Z');
    expect(analyticsWindow('24h', now, 'America/New_York')).toEqual({
      since: new Date('2026-11-01T12:00:00Z'),
      until: now,
      bucket: 'hour',
    });
    expect(analyticsWindow('7d', now, 'America/New_York')).toEqual({
      since: new Date('2026-10-27T04:00:00Z'),
      until: now,
      bucket: 'day',
    });
  });
});

describe('chart axis labels', () => {
  it('keep a label that fits, and break one that does not at the space nearest its middle', () => {
    expect(axisLabelLines('14:00', 56)).toEqual(['14:00']);
    expect(axisLabelLines('15–60 min', 40)).toEqual(['15–60', 'min']);
    expect(axisLabelLines('< 5 min', 30)).toEqual(['< 5', 'min']);
    expect(axisLabelLines('Delivered to a recipient', 60)).toEqual(['Delivered to', 'a recipient']);
    expect(axisLabelLines('Wednesday', 20)).toEqual(['Wednesday']);
  });
});

describe('form messages', () => {
  it('turns the validator’s words into readable ones, by field where it matters', () => {
    const cases: [string, string, string][] = [
      ['name', 'Too small: expected string to have >=1 characters', 'Required'],
      ['name', 'Invalid input: expected string, received undefined', 'Required'],
      ['name', 'Too big: expected string to have <=200 characters', 'Must be at most 200 characters'],
      ['weight', 'Too small: expected number to be >=1', 'Must be at least 1'],
      ['weight', 'Too big: expected number to be <=1000', 'Must be at most 1000'],
      ['weight', 'Invalid input: expected number, received null', 'Enter a number'],
      ['weight', 'Invalid input: expected int, received number', 'Must be a whole number'],
      ['quota', 'Too small: expected number to be >0', 'Must be more than 0'],
      ['requestedStates', 'Too small: expected array to have >=1 items', 'Choose at least one state'],
      ['states', 'Too big: expected array to have <=60 items', 'At most 60 states'],
      ['customerEmail', 'Invalid email address', 'Not a valid email address'],
      ['url', 'Invalid URL', 'Not a valid URL'],
      [
        'kind',
        'Invalid option: expected one of "google_sheet"|"csv_url"',
        'Choose one of: google_sheet, csv_url',
      ],
      ['spreadsheetId', 'Invalid string: must match pattern /^x$/', 'Not in the expected format'],
      // The domain's own words stay as they are.
      ['states.0', 'Unknown US state "XX"', 'Unknown US state "XX"'],
      ['campaign', 'Letters, digits, "_", "." and "-" only', 'Letters, digits, "_", "." and "-" only'],
    ];
    for (const [field, raw, readable] of cases) expect(readableIssue(field, raw), raw).toBe(readable);
  });
});
