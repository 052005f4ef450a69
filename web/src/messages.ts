/**
 * The API names every problem of a form by field, in the validator's words ("Too small: expected
 * string to have >=1 characters"). Forms show them in people's words instead; a message not known here
 * (the domain's own, like "Unknown US state "XX"") is shown as the API wrote it.
 */

/** Fields that hold states: an empty list means "choose one". */
const STATE_FIELDS = new Set(['states', 'requestedStates']);

function plural(n: number, one: string, many: string): string {
  return n === 1 ? one : many;
}

/** A readable message for a problem the API reported on `field`. */
export function readableIssue(field: string, message: string): string {
  const base = field.split('.')[0] ?? field;
  let m: RegExpExecArray | null;

  if ((m = /^Invalid input: expected (\w+), received (\w+)$/.exec(message))) {
    const [, expected, received] = m;
    if (expected === 'int') return 'Must be a whole number';
    // NaN is sent as null: a number field holding something else than a number.
    if (expected === 'number' && (received === 'NaN' || received === 'null' || received === 'string'))
      return 'Enter a number';
    if (received === 'undefined' || received === 'null') return 'Required';
    return message;
  }
  if ((m = /^Too small: expected string to have >=?(\d+) characters?$/.exec(message))) {
    const n = Number(m[1]);
    return n <= 1 ? 'Required' : `Must be at least ${n} characters`;
  }
  if ((m = /^Too big: expected string to have <=?(\d+) characters?$/.exec(message)))
    return `Must be at most ${m[1]} characters`;
  if ((m = /^Too small: expected number to be >=(-?[\d.]+)$/.exec(message)))
    return `Must be at least ${m[1]}`;
  if ((m = /^Too small: expected number to be >(-?[\d.]+)$/.exec(message)))
    return `Must be more than ${m[1]}`;
  if ((m = /^Too big: expected number to be <=(-?[\d.]+)$/.exec(message))) return `Must be at most ${m[1]}`;
  if ((m = /^Too big: expected number to be <(-?[\d.]+)$/.exec(message))) return `Must be less than ${m[1]}`;
  if ((m = /^Too small: expected array to have >=?(\d+) items?$/.exec(message))) {
    const n = Number(m[1]);
    if (STATE_FIELDS.has(base)) return n === 1 ? 'Choose at least one state' : `Choose at least ${n} states`;
    return n === 1 ? 'Choose at least one' : `Choose at least ${n}`;
  }
  if ((m = /^Too big: expected array to have <=?(\d+) items?$/.exec(message))) {
    const n = Number(m[1]);
    return STATE_FIELDS.has(base) ? `At most ${n} ${plural(n, 'state', 'states')}` : `At most ${n}`;
  }
  if (/^Invalid email( address)?$/.test(message)) return 'Not a valid email address';
  if (/^Invalid URL$/.test(message)) return 'Not a valid URL';
  if ((m = /^Invalid option: expected one of (.+)$/.exec(message)))
    return `Choose one of: ${m[1]!
      .split('|')
      .map((o) => o.replace(/^"|"$/g, ''))
      .join(', ')}`;
  if (/^Invalid string: must match pattern /.test(message)) return 'Not in the expected format';
  return message;
}
