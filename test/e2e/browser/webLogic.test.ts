/**
 * The dashboard's pure helpers, without a browser: the Analytics window (days start at midnight in the
 * zone shown, across clock changes) and chart axis labels.
 */
import { describe, expect, it } from 'vitest';
import { analyticsWindow, startOfDay, zoneOffsetMs } from '../../../web/src/analytics.js';
import { axisLabelLines } from '../../../web/src/components/charts.js';

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
