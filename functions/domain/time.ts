/**
 * Local-time rules: a recipient's "today" (for its daily cap), its working hours and the instant its
 * day ends, all in the recipient's own IANA timezone.
 *
 * Everything goes through `Intl.DateTimeFormat`, which carries the tz database, so daylight-saving
 * changes need no special cases here: we never add "24 hours" to get to tomorrow, we ask what the
 * wall clock says at an instant. Pure: `now` is always a parameter.
 */
import { WEEKDAYS, type Weekday, type WorkingHours } from './types.js';

/** The wall clock in one timezone at one instant. */
export interface LocalTime {
  /** `YYYY-MM-DD`. */
  date: string;
  weekday: Weekday;
  /** Minutes since local midnight, 0–1439. */
  minutes: number;
}

// Building a DateTimeFormat costs far more than formatting with one (it resolves the tz data), and the
// allocator asks for the same few timezones for every candidate of every lead.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      // h23, not hour12:false: the latter renders midnight as "24" in some ICU versions.
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      weekday: 'short',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  weekday: Weekday;
}

function wallClock(now: Date, timeZone: string): WallClock {
  const parts: Record<string, string> = {};
  for (const part of formatterFor(timeZone).formatToParts(now)) parts[part.type] = part.value;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
    weekday: (parts.weekday ?? '').toLowerCase().slice(0, 3) as Weekday,
  };
}

function isoDate(year: number, month: number, day: number): string {
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** True when `timeZone` is an IANA zone name this runtime knows (`America/New_York`, `UTC`). */
export function isValidTimeZone(timeZone: string): boolean {
  if (typeof timeZone !== 'string' || timeZone.trim() === '') return false;
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** Date, weekday and minute of day at `now` in `timeZone`. Throws a RangeError for an unknown zone. */
export function localTime(now: Date, timeZone: string): LocalTime {
  const wall = wallClock(now, timeZone);
  return {
    date: isoDate(wall.year, wall.month, wall.day),
    weekday: wall.weekday,
    minutes: wall.hour * 60 + wall.minute,
  };
}

/** The calendar date (`YYYY-MM-DD`) at `now` in `timeZone`: the "today" a daily cap counts against. */
export function localDate(now: Date, timeZone: string): string {
  return localTime(now, timeZone).date;
}

/**
 * Parses `HH:MM` (00:00–23:59, and `24:00` meaning end of day) into minutes since midnight; null when
 * malformed. `allowEndOfDay` admits `24:00`, which only makes sense as the end of a range.
 */
export function parseClockTime(value: string, allowEndOfDay = false): number | null {
  const match = /^(\d{2}):(\d{2})$/.exec(value);
  if (!match) return null;
  const hours = Number(match[1]);
  const minutes = Number(match[2]);
  if (hours === 24 && minutes === 0) return allowEndOfDay ? 24 * 60 : null;
  if (hours > 23 || minutes > 59) return null;
  return hours * 60 + minutes;
}

/**
 * Problems with a working-hours setting, one per bad day, for the API's validation (`[]` = valid).
 * A range whose start equals its end is rejected: it is ambiguous (no hours or all day?); all day is
 * written `["00:00", "24:00"]`.
 */
export function workingHoursIssues(hours: WorkingHours): { day: Weekday; message: string }[] {
  const issues: { day: Weekday; message: string }[] = [];
  for (const day of WEEKDAYS) {
    const range = hours[day];
    if (range === undefined) continue;
    const start = parseClockTime(range[0]);
    const end = parseClockTime(range[1], true);
    if (start === null || end === null) {
      issues.push({ day, message: 'times must be HH:MM (00:00–23:59; 24:00 allowed as the end)' });
    } else if (start === end) {
      issues.push({ day, message: 'start equals end; an all-day range is ["00:00", "24:00"]' });
    }
  }
  return issues;
}

/** Minutes of the local day covered by `day`'s range, split at midnight. */
function coverage(
  hours: WorkingHours,
  day: Weekday,
): { sameDay: [number, number] | null; nextDayUntil: number } {
  const range = hours[day];
  if (!range) return { sameDay: null, nextDayUntil: 0 };
  const start = parseClockTime(range[0]);
  const end = parseClockTime(range[1], true);
  // A malformed or empty range counts as a day off: failing closed shows up as `off_hours` in the
  // trace, where failing open would silently send leads outside someone's hours.
  if (start === null || end === null || start === end) return { sameDay: null, nextDayUntil: 0 };
  if (start < end) return { sameDay: [start, end], nextDayUntil: 0 };
  // Crosses midnight: `fri ["22:00", "02:00"]` is Friday 22:00–24:00 plus Saturday 00:00–02:00.
  return { sameDay: [start, 24 * 60], nextDayUntil: end };
}

/**
 * Whether `now` falls inside the recipient's working hours, read on its own wall clock.
 *
 * - `null` hours mean always available; a weekday left out is a day off.
 * - Ranges are half-open, `[start, end)`: `["09:00", "17:00"]` includes 09:00 and excludes 17:00.
 * - An end before the start crosses midnight, and the part after midnight belongs to the weekday the
 *   range was written under: with `fri ["22:00", "02:00"]`, Saturday 01:30 is inside (Friday's
 *   shift), even when Saturday itself is a day off.
 * - `24:00` is allowed as an end. Across a DST change the wall clock is what counts: on the
 *   spring-forward night a 02:00–03:00 range simply does not occur.
 */
export function isWithinWorkingHours(now: Date, timeZone: string, hours: WorkingHours | null): boolean {
  if (hours === null) return true;
  const local = localTime(now, timeZone);
  const today = coverage(hours, local.weekday);
  if (today.sameDay && local.minutes >= today.sameDay[0] && local.minutes < today.sameDay[1]) return true;
  const yesterday = WEEKDAYS[(WEEKDAYS.indexOf(local.weekday) + 6) % 7] as Weekday;
  return local.minutes < coverage(hours, yesterday).nextDayUntil;
}

/** Offset of `timeZone` from UTC at `instant`, in milliseconds (positive east of Greenwich). */
function offsetAt(instant: number, timeZone: string): number {
  const wall = wallClock(new Date(instant), timeZone);
  const wallAsUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second);
  return wallAsUtc - (instant - (((instant % 1000) + 1000) % 1000));
}

/**
 * The first instant of the next local day in `timeZone` after `now`: when a recipient's daily cap
 * starts counting afresh.
 *
 * Computed from the zone's offset at that midnight (two passes, because the offset at midnight may
 * differ from the offset now). Where midnight itself is skipped by a DST change (some zones move their
 * clocks at 00:00, so the day starts at 01:00), the day's first instant is found by bisection instead.
 */
export function nextLocalMidnight(now: Date, timeZone: string): Date {
  const today = wallClock(now, timeZone);
  const tomorrowUtc = new Date(Date.UTC(today.year, today.month - 1, today.day + 1));
  const tomorrow = isoDate(
    tomorrowUtc.getUTCFullYear(),
    tomorrowUtc.getUTCMonth() + 1,
    tomorrowUtc.getUTCDate(),
  );
  const wallMidnight = tomorrowUtc.getTime();
  let candidate = wallMidnight - offsetAt(wallMidnight, timeZone);
  candidate = wallMidnight - offsetAt(candidate, timeZone);

  const startsTomorrow = (t: number): boolean => localDate(new Date(t), timeZone) >= tomorrow;
  if (candidate > now.getTime() && startsTomorrow(candidate) && !startsTomorrow(candidate - 1)) {
    return new Date(candidate);
  }
  // Bisection on "the local date has reached tomorrow"; a local day is never longer than 26 h.
  let before = now.getTime();
  let after = before + 27 * 60 * 60 * 1000;
  while (after - before > 1) {
    const middle = before + Math.floor((after - before) / 2);
    if (startsTomorrow(middle)) after = middle;
    else before = middle;
  }
  return new Date(after);
}
