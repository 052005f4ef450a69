/**
 * EventBridge schedule expressions (`rate(…)`, `cron(…)`) as croner schedules, so the local
 * scheduler reads the very strings `functions/registry.ts` gives the CDK app.
 *
 * Differences that matter when translating:
 * - EventBridge cron has six fields, `minutes hours day-of-month month day-of-week year`; croner's
 *   six-field form starts with seconds and has no year. We prepend second 0 and check the year
 *   ourselves at each tick.
 * - EventBridge numbers weekdays 1–7 from Sunday; croner 0–6 from Sunday. Names (MON-FRI) agree.
 * - `?` means "no value" in EventBridge but "the current time" in croner, so it becomes `*`.
 * - `L` (last day / last weekday) and `#` exist in both, spelled `5L` vs `5#L` for weekdays; `W`
 *   (nearest weekday) does not exist in croner and is rejected.
 * - EventBridge rules run cron schedules in UTC; so does the scheduler.
 * - `rate(n unit)` fires every n units from the rule's creation, not on the clock. We align to the
 *   clock when n divides the next unit (every 10 minutes → :00, :10, …), which keeps local runs
 *   predictable, and otherwise fall back to croner's minimum `interval` between runs.
 */
export interface CronerSchedule {
  /** Croner pattern with seconds: `sec min hour day-of-month month day-of-week`. */
  pattern: string;
  /** Minimum seconds between runs (croner `interval`), for rates the pattern cannot express. */
  interval?: number;
  /** EventBridge's year field, which croner lacks. */
  matchesYear(year: number): boolean;
}

const UNIT_SECONDS = { minute: 60, hour: 3600, day: 86400 } as const;
type RateUnit = keyof typeof UNIT_SECONDS;

export function toCronerSchedule(expression: string): CronerSchedule {
  const rate = /^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$/.exec(expression.trim());
  if (rate) return fromRate(Number(rate[1]), rate[2] ?? '', expression);
  const cron = /^cron\((.*)\)$/.exec(expression.trim());
  if (cron) return fromCron(cron[1] ?? '', expression);
  throw new Error(`Not an EventBridge schedule expression: ${expression}`);
}

function fromRate(value: number, unitWord: string, expression: string): CronerSchedule {
  const unit = unitWord.replace(/s$/, '') as RateUnit;
  // EventBridge itself rejects `rate(1 minutes)` and `rate(5 minute)`.
  if (value < 1 || (value === 1) !== (unitWord === unit))
    throw new Error(`Invalid rate expression: ${expression}`);
  const always = () => true;
  if (unit === 'minute' && 60 % value === 0)
    return { pattern: value === 1 ? '0 * * * * *' : `0 */${value} * * * *`, matchesYear: always };
  if (unit === 'hour' && 24 % value === 0)
    return { pattern: value === 1 ? '0 0 * * * *' : `0 0 */${value} * * *`, matchesYear: always };
  if (unit === 'day' && value === 1) return { pattern: '0 0 0 * * *', matchesYear: always };
  const base = { minute: '0 * * * * *', hour: '0 0 * * * *', day: '0 0 0 * * *' }[unit];
  return { pattern: base, interval: value * UNIT_SECONDS[unit], matchesYear: always };
}

function fromCron(body: string, expression: string): CronerSchedule {
  const fields = body.trim().split(/\s+/);
  if (fields.length !== 6)
    throw new Error(`EventBridge cron needs 6 fields (min hour day month weekday year): ${expression}`);
  const [minutes, hours, dayOfMonth, month, dayOfWeek, year] = fields as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if (dayOfMonth !== '?' && dayOfWeek !== '?')
    throw new Error(`EventBridge cron needs '?' in day-of-month or day-of-week: ${expression}`);
  if (/W/i.test(dayOfMonth)) throw new Error(`'W' (nearest weekday) is not supported locally: ${expression}`);
  const pattern = ['0', minutes, hours, wildcard(dayOfMonth), month, weekdays(dayOfWeek)].join(' ');
  return { pattern, matchesYear: yearMatcher(year, expression) };
}

function wildcard(field: string): string {
  return field === '?' ? '*' : field;
}

/** `2-6` → `1-5`, `6#3` → `5#3`, `6L` → `5#L`; names and `*` unchanged. */
function weekdays(field: string): string {
  if (field === '?' || field === '*') return '*';
  const shift = (token: string) => (/^\d+$/.test(token) ? String(Number(token) - 1) : token);
  return field
    .split(',')
    .map((item) => {
      const last = /^(\w+)L$/i.exec(item);
      if (last) return `${shift(last[1] ?? '')}#L`;
      const [days = '', nth] = item.split('#');
      const [range = '', step] = days.split('/');
      const shifted = range.split('-').map(shift).join('-');
      return shifted + (step ? `/${step}` : '') + (nth ? `#${nth}` : '');
    })
    .join(',');
}

function yearMatcher(field: string, expression: string): (year: number) => boolean {
  if (field === '*' || field === '?') return () => true;
  const parts = field.split(',').map((part) => {
    const match = /^(\d{4})(?:-(\d{4}))?(?:\/(\d+))?$/.exec(part);
    if (!match) throw new Error(`Unsupported year field '${field}': ${expression}`);
    const from = Number(match[1]);
    const to = match[2] ? Number(match[2]) : match[3] ? 2199 : from;
    const step = match[3] ? Number(match[3]) : 1;
    return (year: number) => year >= from && year <= to && (year - from) % step === 0;
  });
  return (year) => parts.some((matches) => matches(year));
}
