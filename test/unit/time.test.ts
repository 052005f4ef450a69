import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  isValidTimeZone,
  isWithinWorkingHours,
  localDate,
  localTime,
  nextLocalMidnight,
  parseClockTime,
  workingHoursIssues,
} from '../../functions/domain/time.js';
import type { WorkingHours } from '../../functions/domain/types.js';

const HOUR = 60 * 60 * 1000;
const at = (iso: string): Date => new Date(iso);

describe('localDate', () => {
  it.each([
    // America/New_York, spring forward on 2024-03-10 (EST -5 before)
    ['2024-03-10T04:59:59Z', 'America/New_York', '2024-03-09'],
    ['2024-03-10T05:00:00Z', 'America/New_York', '2024-03-10'],
    // ...and fall back on 2024-11-03 (EDT -4 before)
    ['2024-11-03T03:59:59Z', 'America/New_York', '2024-11-02'],
    ['2024-11-03T04:00:00Z', 'America/New_York', '2024-11-03'],
    // Asia/Kolkata, +05:30 all year
    ['2024-06-01T18:29:59Z', 'Asia/Kolkata', '2024-06-01'],
    ['2024-06-01T18:30:00Z', 'Asia/Kolkata', '2024-06-02'],
    // Pacific/Auckland, NZST +12 in June, NZDT +13 in December
    ['2024-06-12T11:59:59Z', 'Pacific/Auckland', '2024-06-12'],
    ['2024-06-12T12:00:00Z', 'Pacific/Auckland', '2024-06-13'],
    ['2024-12-31T11:00:00Z', 'Pacific/Auckland', '2025-01-01'],
    ['2024-12-31T23:59:59Z', 'UTC', '2024-12-31'],
  ])('%s in %s is %s', (instant, timeZone, expected) => {
    // Act
    const date = localDate(at(instant), timeZone);

    // Assess
    expect(date).toBe(expected);
  });

  it('reports weekday and minutes of the local wall clock', () => {
    // Prepare: Tuesday 21:00 UTC is already Wednesday 09:00 in Auckland
    const now = at('2024-06-11T21:00:00Z');

    // Act
    const local = localTime(now, 'Pacific/Auckland');

    // Assess
    expect(local).toEqual({ date: '2024-06-12', weekday: 'wed', minutes: 9 * 60 });
  });

  it('throws a RangeError for an unknown zone', () => {
    expect(() => localDate(at('2024-06-12T00:00:00Z'), 'Mars/Olympus_Mons')).toThrow(RangeError);
  });
});

describe('isValidTimeZone', () => {
  it.each(['America/New_York', 'Asia/Kolkata', 'Pacific/Auckland', 'UTC', 'Europe/Berlin'])(
    'accepts %s',
    (tz) => {
      expect(isValidTimeZone(tz)).toBe(true);
    },
  );

  it.each(['', '   ', 'Mars/Olympus_Mons', 'EST5EDT6', 'New York'])('rejects %j', (tz) => {
    expect(isValidTimeZone(tz)).toBe(false);
  });
});

describe('nextLocalMidnight', () => {
  it.each([
    // an ordinary day in New York (EDT)
    ['2024-06-12T15:00:00Z', 'America/New_York', '2024-06-13T04:00:00.000Z'],
    // spring-forward day: 23 hours long, so tomorrow starts at -04:00
    ['2024-03-10T12:00:00Z', 'America/New_York', '2024-03-11T04:00:00.000Z'],
    // the evening before spring forward: tomorrow still starts at -05:00
    ['2024-03-10T04:00:00Z', 'America/New_York', '2024-03-10T05:00:00.000Z'],
    // fall-back day: 25 hours long
    ['2024-11-03T12:00:00Z', 'America/New_York', '2024-11-04T05:00:00.000Z'],
    ['2024-06-01T12:00:00Z', 'Asia/Kolkata', '2024-06-01T18:30:00.000Z'],
    // Auckland's spring forward (2024-09-29 02:00 → 03:00): the next day starts at +13
    ['2024-09-28T13:00:00Z', 'Pacific/Auckland', '2024-09-29T11:00:00.000Z'],
    // Auckland's fall back (2024-04-07 03:00 → 02:00)
    ['2024-04-06T12:00:00Z', 'Pacific/Auckland', '2024-04-07T12:00:00.000Z'],
    // São Paulo, 2018-11-04: clocks jumped 00:00 → 01:00, so that day began at 01:00 local
    ['2018-11-03T12:00:00Z', 'America/Sao_Paulo', '2018-11-04T03:00:00.000Z'],
  ])('after %s in %s is %s', (instant, timeZone, expected) => {
    // Act
    const midnight = nextLocalMidnight(at(instant), timeZone);

    // Assess
    expect(midnight.toISOString()).toBe(expected);
  });

  it('makes the New York DST days 23 and 25 hours long', () => {
    // Prepare
    const startOfSpringDay = nextLocalMidnight(at('2024-03-09T12:00:00Z'), 'America/New_York');
    const startOfFallDay = nextLocalMidnight(at('2024-11-02T12:00:00Z'), 'America/New_York');

    // Act
    const springDay =
      nextLocalMidnight(startOfSpringDay, 'America/New_York').getTime() - startOfSpringDay.getTime();
    const fallDay =
      nextLocalMidnight(startOfFallDay, 'America/New_York').getTime() - startOfFallDay.getTime();

    // Assess
    expect(springDay).toBe(23 * HOUR);
    expect(fallDay).toBe(25 * HOUR);
  });

  it('at midnight exactly, is the following midnight', () => {
    expect(nextLocalMidnight(at('2024-06-12T04:00:00Z'), 'America/New_York').toISOString()).toBe(
      '2024-06-13T04:00:00.000Z',
    );
  });

  it('is the first instant of the next local date, for any instant and zone', () => {
    const zones = [
      'America/New_York',
      'America/Los_Angeles',
      'Asia/Kolkata',
      'Pacific/Auckland',
      'Australia/Lord_Howe',
      'America/Sao_Paulo',
      'America/Santiago',
      'Europe/London',
      'Pacific/Chatham',
      'UTC',
    ];
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2040, 0, 1) }),
        fc.constantFrom(...zones),
        (instant, timeZone) => {
          // Act
          const next = nextLocalMidnight(new Date(instant), timeZone).getTime();

          // Assess
          const today = localDate(new Date(instant), timeZone);
          expect(next).toBeGreaterThan(instant);
          expect(next - instant).toBeLessThanOrEqual(26 * HOUR);
          expect(localDate(new Date(next - 1), timeZone)).toBe(today);
          expect(localDate(new Date(next), timeZone) > today).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('isWithinWorkingHours', () => {
  const weekdays: WorkingHours = {
    mon: ['09:00', '17:00'],
    tue: ['09:00', '17:00'],
    wed: ['09:00', '17:00'],
    thu: ['09:00', '17:00'],
    fri: ['09:00', '17:00'],
  };

  it('treats no working hours as always available', () => {
    expect(isWithinWorkingHours(at('2024-06-15T07:00:00Z'), 'America/New_York', null)).toBe(true);
  });

  it.each([
    ['2024-06-12T12:59:00Z', false], // Wed 08:59 EDT
    ['2024-06-12T13:00:00Z', true], // Wed 09:00 EDT, start included
    ['2024-06-12T20:59:00Z', true], // Wed 16:59 EDT
    ['2024-06-12T21:00:00Z', false], // Wed 17:00 EDT, end excluded
    ['2024-06-15T15:00:00Z', false], // Saturday: a day left out is a day off
  ])('09:00–17:00 New York at %s → %s', (instant, expected) => {
    expect(isWithinWorkingHours(at(instant), 'America/New_York', weekdays)).toBe(expected);
  });

  it('keeps the local wall clock across the DST change', () => {
    // Prepare: Monday 09:00 is 14:00Z in winter (EST) and 13:00Z after spring forward (EDT)
    const beforeDst = at('2024-03-04T14:00:00Z');
    const winterEarly = at('2024-03-04T13:30:00Z');
    const afterDst = at('2024-03-11T13:00:00Z');
    const afterFallBack = at('2024-11-04T13:30:00Z'); // 08:30 EST

    // Act / Assess
    expect(isWithinWorkingHours(beforeDst, 'America/New_York', weekdays)).toBe(true);
    expect(isWithinWorkingHours(winterEarly, 'America/New_York', weekdays)).toBe(false);
    expect(isWithinWorkingHours(afterDst, 'America/New_York', weekdays)).toBe(true);
    expect(isWithinWorkingHours(afterFallBack, 'America/New_York', weekdays)).toBe(false);
  });

  it('reads the recipient’s own weekday, not UTC’s (Auckland)', () => {
    // Prepare: Tuesday 21:00 UTC is Wednesday 09:00 in Auckland
    const now = at('2024-06-11T21:00:00Z');

    // Act / Assess
    expect(isWithinWorkingHours(now, 'Pacific/Auckland', { wed: ['09:00', '17:00'] })).toBe(true);
    expect(isWithinWorkingHours(now, 'Pacific/Auckland', { tue: ['09:00', '17:00'] })).toBe(false);
  });

  it('handles half-hour offsets (Kolkata)', () => {
    const hours: WorkingHours = { mon: ['09:30', '18:00'] };
    expect(isWithinWorkingHours(at('2024-06-10T04:00:00Z'), 'Asia/Kolkata', hours)).toBe(true); // 09:30 IST
    expect(isWithinWorkingHours(at('2024-06-10T03:59:00Z'), 'Asia/Kolkata', hours)).toBe(false); // 09:29 IST
    expect(isWithinWorkingHours(at('2024-06-10T12:29:00Z'), 'Asia/Kolkata', hours)).toBe(true); // 17:59 IST
  });

  it.each([
    ['2024-06-15T01:59:00Z', false], // Fri 21:59 EDT
    ['2024-06-15T02:00:00Z', true], // Fri 22:00 EDT
    ['2024-06-15T05:30:00Z', true], // Sat 01:30: Friday's shift, though Saturday is a day off
    ['2024-06-15T06:00:00Z', false], // Sat 02:00, end excluded
    ['2024-06-13T05:30:00Z', false], // Thu 01:30: Wednesday has no overnight shift
  ])('an overnight shift fri 22:00–02:00 at %s → %s', (instant, expected) => {
    expect(isWithinWorkingHours(at(instant), 'America/New_York', { fri: ['22:00', '02:00'] })).toBe(expected);
  });

  it('accepts 24:00 as an end and 00:00–24:00 as all day', () => {
    const evening: WorkingHours = { sun: ['18:00', '24:00'] };
    expect(isWithinWorkingHours(at('2024-06-17T03:59:00Z'), 'America/New_York', evening)).toBe(true); // Sun 23:59
    expect(isWithinWorkingHours(at('2024-06-17T04:00:00Z'), 'America/New_York', evening)).toBe(false); // Mon 00:00
    const allDay: WorkingHours = { sat: ['00:00', '24:00'] };
    expect(isWithinWorkingHours(at('2024-06-15T04:00:00Z'), 'America/New_York', allDay)).toBe(true); // Sat 00:00
    expect(isWithinWorkingHours(at('2024-06-16T03:59:00Z'), 'America/New_York', allDay)).toBe(true); // Sat 23:59
  });

  it('counts a malformed or empty range as a day off', () => {
    const now = at('2024-06-12T15:00:00Z'); // Wed 11:00 EDT
    expect(isWithinWorkingHours(now, 'America/New_York', { wed: ['9am', '5pm'] })).toBe(false);
    expect(isWithinWorkingHours(now, 'America/New_York', { wed: ['10:00', '10:00'] })).toBe(false);
  });

  it('throws a RangeError for an unknown zone when hours are set', () => {
    expect(() => isWithinWorkingHours(at('2024-06-12T15:00:00Z'), 'Nowhere/Land', weekdays)).toThrow(
      RangeError,
    );
  });
});

describe('parseClockTime and workingHoursIssues', () => {
  it.each([
    ['00:00', false, 0],
    ['09:30', false, 570],
    ['23:59', false, 1439],
    ['24:00', true, 1440],
    ['24:00', false, null],
    ['24:01', true, null],
    ['9:30', false, null],
    ['12:60', false, null],
  ] as const)('%s (end of day allowed: %s) → %s', (value, allowEnd, expected) => {
    expect(parseClockTime(value, allowEnd)).toBe(expected);
  });

  it('lists every bad day', () => {
    // Act
    const issues = workingHoursIssues({
      mon: ['09:00', '17:00'],
      tue: ['24:00', '17:00'],
      wed: ['10:00', '10:00'],
      thu: ['22:00', '02:00'],
    });

    // Assess
    expect(issues.map((i) => i.day)).toEqual(['tue', 'wed']);
  });
});
