/**
 * Intake normalisation (SPEC §5): whatever a Make.com scenario, a Zap, a form or a sheet row sends
 * becomes one `NormalizedLead`, or a list of every problem found, each naming our field.
 *
 * Field names are matched loosely (`firstName`, `first_name`, `First Name`, `first-name` are the same
 * field) because each integration spells them its own way; values may be strings or numbers because
 * sheets and form-encoded bodies turn everything into strings and spreadsheets turn zips into numbers.
 * Text is kept as given after trimming: HTML or SQL in a name is data, made inert where it is output.
 */
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import { z } from 'zod';
import type { FieldIssue } from './errors.js';
import type { NormalizedLead } from './types.js';

/** Our lead fields an incoming field can map to (`name` is split into first and last). */
export const LEAD_FIELDS = [
  'firstName',
  'lastName',
  'name',
  'phone',
  'email',
  'state',
  'zip',
  'campaign',
  'externalId',
] as const;
export type LeadField = (typeof LEAD_FIELDS)[number];

export const LIMITS = {
  nameLength: 100,
  // RFC 5321's limit on a forward path.
  emailLength: 254,
  externalIdLength: 200,
  campaignLength: 100,
  attributesBytes: 16 * 1024,
  attributesKeys: 50,
  /** Levels of objects/arrays, the attributes object itself being level 1. */
  attributesDepth: 5,
} as const;

/** `First Name`, `first_name`, `firstName` and `first-name` all become `firstname`. */
function fieldKey(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/**
 * Spellings of each field, in order of precedence when a body carries more than one of them (an
 * exact `phone` beats `mobile`); the ones that lose are kept in `attributes`, so nothing is dropped.
 */
const ALIASES: Record<LeadField, string[]> = {
  firstName: ['firstname', 'fname', 'givenname'],
  lastName: ['lastname', 'lname', 'surname', 'familyname'],
  name: ['name', 'fullname'],
  phone: [
    'phone',
    'phonenumber',
    'mobile',
    'mobilephone',
    'mobilenumber',
    'cellphone',
    'cell',
    'tel',
    'telephone',
  ],
  email: ['email', 'emailaddress'],
  state: ['state', 'statecode', 'region', 'province'],
  zip: ['zip', 'zipcode', 'postalcode', 'postcode'],
  campaign: ['campaign', 'campaignkey'],
  externalId: ['externalid', 'id', 'leadid'],
};

const FIELD_BY_KEY = new Map<string, LeadField>(
  LEAD_FIELDS.flatMap((field) => ALIASES[field].map((alias) => [alias, field] as const)),
);

/** Keys that could reach an object's prototype when copied naively; never kept. */
const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/* ------------------------------------------------------------------------------------------------ */
/* States                                                                                            */

const STATE_NAMES: Record<string, string> = {
  AL: 'Alabama',
  AK: 'Alaska',
  AZ: 'Arizona',
  AR: 'Arkansas',
  CA: 'California',
  CO: 'Colorado',
  CT: 'Connecticut',
  DE: 'Delaware',
  FL: 'Florida',
  GA: 'Georgia',
  HI: 'Hawaii',
  ID: 'Idaho',
  IL: 'Illinois',
  IN: 'Indiana',
  IA: 'Iowa',
  KS: 'Kansas',
  KY: 'Kentucky',
  LA: 'Louisiana',
  ME: 'Maine',
  MD: 'Maryland',
  MA: 'Massachusetts',
  MI: 'Michigan',
  MN: 'Minnesota',
  MS: 'Mississippi',
  MO: 'Missouri',
  MT: 'Montana',
  NE: 'Nebraska',
  NV: 'Nevada',
  NH: 'New Hampshire',
  NJ: 'New Jersey',
  NM: 'New Mexico',
  NY: 'New York',
  NC: 'North Carolina',
  ND: 'North Dakota',
  OH: 'Ohio',
  OK: 'Oklahoma',
  OR: 'Oregon',
  PA: 'Pennsylvania',
  RI: 'Rhode Island',
  SC: 'South Carolina',
  SD: 'South Dakota',
  TN: 'Tennessee',
  TX: 'Texas',
  UT: 'Utah',
  VT: 'Vermont',
  VA: 'Virginia',
  WA: 'Washington',
  WV: 'West Virginia',
  WI: 'Wisconsin',
  WY: 'Wyoming',
  DC: 'District of Columbia',
  PR: 'Puerto Rico',
  GU: 'Guam',
  VI: 'U.S. Virgin Islands',
  AS: 'American Samoa',
  MP: 'Northern Mariana Islands',
};

/** USPS codes we route on: the 50 states, DC and the five inhabited territories. */
export const US_STATE_CODES: readonly string[] = Object.keys(STATE_NAMES);

/** `"New York"`, `"new-york"`, `" N.Y. "` style inputs reduced to one spelling for lookup. */
function stateKey(input: string): string {
  return input
    .toLowerCase()
    .replace(/\./g, '')
    .replace(/[\s,_-]+/g, ' ')
    .trim();
}

const STATE_BY_KEY = new Map<string, string>([
  ...US_STATE_CODES.map((code) => [stateKey(code), code] as const),
  ...Object.entries(STATE_NAMES).map(([code, name]) => [stateKey(name), code] as const),
  ['washington dc', 'DC'],
  ['washington district of columbia', 'DC'],
  ['virgin islands', 'VI'],
  ['us virgin islands', 'VI'],
  ['united states virgin islands', 'VI'],
  ['northern mariana', 'MP'],
  ['commonwealth of puerto rico', 'PR'],
]);

/** USPS code for a state code or name in any case (`"California"`, `"ca"`, `" new york "`); null if unknown. */
export function normalizeState(input: string): string | null {
  return STATE_BY_KEY.get(stateKey(input)) ?? null;
}

/* ------------------------------------------------------------------------------------------------ */
/* Phone, email, zip, names                                                                          */

/** E.164 for a valid phone number (`"(415) 555-2671"` → `"+14155552671"`), null otherwise. */
export function normalizePhone(input: string, defaultCountry: CountryCode = 'US'): string | null {
  const parsed = parsePhoneNumberFromString(input.trim(), defaultCountry);
  return parsed?.isValid() ? parsed.number : null;
}

const emailSchema = z.email();

/** Lower-cased email when valid (and at most 254 characters), null otherwise. */
export function normalizeEmail(input: string): string | null {
  const email = input.trim().toLowerCase();
  if (email.length > LIMITS.emailLength) return null;
  return emailSchema.safeParse(email).success ? email : null;
}

/**
 * A US ZIP or ZIP+4 as `12345` or `12345-6789`; null when it is neither.
 *
 * Spreadsheets store zips as numbers and drop leading zeros (Boston's 02134 arrives as 2134), and a
 * number-typed column reaches us as a digits-only string through Make.com as often as a number. So a
 * digits-only value of 3–4 digits is padded to 5 (the lowest ZIP in use is 00501), and a number of
 * 6–8 digits is a ZIP+4 that lost its zeros. Shorter values cannot be a ZIP and are rejected.
 */
export function normalizeZip(input: string | number): string | null {
  if (typeof input === 'number') {
    if (!Number.isSafeInteger(input) || input < 0) return null;
    const digits = String(input);
    if (digits.length > 5 && digits.length <= 9) return zipPlusFour(digits.padStart(9, '0'));
    return normalizeZip(digits);
  }
  const value = input.trim();
  if (/^\d{3,5}$/.test(value)) return value.padStart(5, '0');
  if (/^\d{9}$/.test(value)) return zipPlusFour(value);
  const plusFour = /^(\d{3,5})[-\s](\d{4})$/.exec(value);
  if (plusFour) return `${(plusFour[1] ?? '').padStart(5, '0')}-${plusFour[2] ?? ''}`;
  return null;
}

function zipPlusFour(nineDigits: string): string {
  return `${nineDigits.slice(0, 5)}-${nineDigits.slice(5)}`;
}

/**
 * Splits a full name: the last word is the last name, the rest the first name (`"Mary Ann Smith"` →
 * `Mary Ann` / `Smith`). A single word is taken as the first name, since that is what people type
 * when they give only one.
 */
export function splitFullName(fullName: string): { firstName: string | null; lastName: string | null } {
  const words = fullName.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return { firstName: null, lastName: null };
  if (words.length === 1) return { firstName: words[0] ?? null, lastName: null };
  return { firstName: words.slice(0, -1).join(' '), lastName: words[words.length - 1] ?? null };
}

/* ------------------------------------------------------------------------------------------------ */
/* Attributes                                                                                        */

type CopyResult = { ok: true; value: unknown } | { ok: false; message: string };

/**
 * A JSON-safe copy of an attribute value with unsafe keys removed at every level. Stops at the depth
 * limit instead of recursing further, so a hostile, deeply nested body cannot exhaust the stack.
 */
function copyAttributeValue(value: unknown, depth: number): CopyResult {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return { ok: true, value };
  if (typeof value === 'number') {
    return Number.isFinite(value) ? { ok: true, value } : { ok: false, message: 'numbers must be finite' };
  }
  if (typeof value !== 'object') return { ok: false, message: `unsupported value of type ${typeof value}` };
  if (depth >= LIMITS.attributesDepth) {
    return { ok: false, message: `nested deeper than ${LIMITS.attributesDepth} levels` };
  }
  if (Array.isArray(value)) {
    const items: unknown[] = [];
    for (const item of value) {
      const copied = copyAttributeValue(item, depth + 1);
      if (!copied.ok) return copied;
      items.push(copied.value);
    }
    return { ok: true, value: items };
  }
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (UNSAFE_KEYS.has(key) || item === undefined) continue;
    const copied = copyAttributeValue(item, depth + 1);
    if (!copied.ok) return copied;
    copy[key] = copied.value;
  }
  return { ok: true, value: copy };
}

function attributeIssues(attributes: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const keys = Object.keys(attributes).length;
  if (keys > LIMITS.attributesKeys) problems.push(`at most ${LIMITS.attributesKeys} keys (got ${keys})`);
  const bytes = new TextEncoder().encode(JSON.stringify(attributes)).length;
  if (bytes > LIMITS.attributesBytes) {
    problems.push(`at most ${LIMITS.attributesBytes} bytes as JSON (got ${bytes})`);
  }
  return problems;
}

/* ------------------------------------------------------------------------------------------------ */
/* The whole lead                                                                                    */

export interface NormalizeOptions {
  /**
   * The source's own mapping, incoming name → our field (`{ "Cell #": "phone" }`). Incoming names match
   * as loosely as the built-in ones and win over them. A target that is not one of our fields renames
   * the value inside `attributes` (`{ "utm_source": "source" }`).
   */
  fieldMap?: Record<string, string>;
  defaultCountry?: CountryCode;
}

export type NormalizeResult = { ok: true; lead: NormalizedLead } | { ok: false; issues: FieldIssue[] };

/** A field's text: strings trimmed, finite numbers as written; undefined when missing or empty. */
function textOf(value: unknown): { text?: string; wrongType?: true } {
  if (value === undefined || value === null) return {};
  if (typeof value === 'number') {
    return Number.isFinite(value) ? { text: String(value) } : { wrongType: true };
  }
  if (typeof value !== 'string') return { wrongType: true };
  const text = value.trim();
  return text === '' ? {} : { text };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Normalises one incoming lead. Every problem is reported, each on our field name:
 *
 * - `phone` required, any common format, valid for its country (US by default) → E.164.
 * - `email` optional, valid, ≤ 254 characters → lower-cased.
 * - `firstName` / `lastName` ≤ 100 characters; a `name` / `full_name` is split into them when neither
 *   is given (otherwise it is kept in `attributes`).
 * - `state` a USPS code or full name of a state, DC or territory → the code.
 * - `zip` US ZIP or ZIP+4 (see `normalizeZip`).
 * - `campaign` ≤ 100 characters of `A–Z a–z 0–9 _ . -`; `externalId` ≤ 200 characters.
 * - Every other field is kept in `attributes` as given (≤ 50 keys, ≤ 16 KiB as JSON, ≤ 5 levels
 *   deep). A body field named `attributes` holding an object is merged in rather than nested.
 */
export function normalizeLeadInput(
  raw: Record<string, unknown>,
  opts: NormalizeOptions = {},
): NormalizeResult {
  if (!isPlainObject(raw)) {
    return { ok: false, issues: [{ field: 'body', message: 'must be a JSON object' }] };
  }
  const issues: FieldIssue[] = [];
  const issue = (field: string, message: string): void => {
    issues.push({ field, message });
  };

  const mapped = new Map<string, string>();
  for (const [incoming, target] of Object.entries(opts.fieldMap ?? {})) {
    mapped.set(fieldKey(incoming), target);
  }

  // Sort every incoming field into one of our fields or into attributes.
  const candidates = new Map<LeadField, { rank: number; key: string; value: unknown }[]>();
  const attributeEntries: [string, unknown][] = [];
  // Keys of a nested `attributes` object go first, so a top-level field of the same name wins.
  const nestedAttributes: [string, unknown][] = [];
  for (const [key, value] of Object.entries(raw)) {
    if (UNSAFE_KEYS.has(key)) continue;
    const target = mapped.get(fieldKey(key));
    const field = FIELD_BY_KEY.get(fieldKey(target ?? key));
    if (field) {
      // Source mappings rank before every built-in alias.
      const rank = target !== undefined ? -1 : ALIASES[field].indexOf(fieldKey(key));
      const list = candidates.get(field) ?? [];
      list.push({ rank, key, value });
      candidates.set(field, list);
    } else if (target !== undefined && !UNSAFE_KEYS.has(target)) {
      attributeEntries.push([target, value]);
    } else if (target === undefined && key === 'attributes' && isPlainObject(value)) {
      nestedAttributes.push(...Object.entries(value));
    } else if (target === undefined) {
      attributeEntries.push([key, value]);
    }
  }

  // For each field the best-ranked spelling that carries a value wins; other spellings with a value
  // are kept in attributes, so a second number sent as `mobile` next to `phone` is not lost.
  const text = new Map<LeadField, { key: string; text: string; value: unknown }>();
  for (const field of LEAD_FIELDS) {
    const spellings = (candidates.get(field) ?? [])
      .sort((a, b) => a.rank - b.rank)
      .map((spelling) => ({ ...spelling, ...textOf(spelling.value) }))
      .filter((spelling) => spelling.text !== undefined || spelling.wrongType);
    const [winner, ...others] = spellings;
    for (const other of others) attributeEntries.push([other.key, other.value]);
    if (winner?.wrongType) {
      issue(field, 'must be a string or a number');
    } else if (winner?.text !== undefined) {
      text.set(field, { key: winner.key, text: winner.text, value: winner.value });
    }
  }

  const phoneText = text.get('phone')?.text;
  let phone: string | null = null;
  if (phoneText === undefined) {
    if (!issues.some((i) => i.field === 'phone')) issue('phone', 'is required');
  } else {
    phone = normalizePhone(phoneText, opts.defaultCountry ?? 'US');
    if (phone === null) issue('phone', 'is not a valid phone number');
  }

  let email: string | null = null;
  const emailText = text.get('email')?.text;
  if (emailText !== undefined) {
    if (emailText.length > LIMITS.emailLength) {
      issue('email', `must be at most ${LIMITS.emailLength} characters`);
    } else {
      email = normalizeEmail(emailText);
      if (email === null) issue('email', 'is not a valid email address');
    }
  }

  let firstName = text.get('firstName')?.text ?? null;
  let lastName = text.get('lastName')?.text ?? null;
  const fullName = text.get('name');
  if (fullName && firstName === null && lastName === null) {
    ({ firstName, lastName } = splitFullName(fullName.text));
  } else if (fullName) {
    attributeEntries.push([fullName.key, fullName.value]);
  }
  const nameField = (field: 'firstName' | 'lastName'): string =>
    text.has(field) || !fullName ? field : 'name';
  if (firstName !== null && firstName.length > LIMITS.nameLength) {
    issue(nameField('firstName'), `must be at most ${LIMITS.nameLength} characters`);
  }
  if (lastName !== null && lastName.length > LIMITS.nameLength) {
    issue(nameField('lastName'), `must be at most ${LIMITS.nameLength} characters`);
  }

  let state: string | null = null;
  const stateText = text.get('state')?.text;
  if (stateText !== undefined) {
    state = normalizeState(stateText);
    if (state === null) issue('state', 'is not a US state, DC or territory');
  }

  let zip: string | null = null;
  const zipValue = text.get('zip');
  if (zipValue !== undefined) {
    zip = normalizeZip(typeof zipValue.value === 'number' ? zipValue.value : zipValue.text);
    if (zip === null) issue('zip', 'must be a US ZIP code (12345 or 12345-6789)');
  }

  const campaign = text.get('campaign')?.text ?? null;
  if (campaign !== null) {
    if (campaign.length > LIMITS.campaignLength) {
      issue('campaign', `must be at most ${LIMITS.campaignLength} characters`);
    } else if (!/^[A-Za-z0-9_.-]+$/.test(campaign)) {
      issue('campaign', 'may contain only letters, digits, "_", "." and "-"');
    }
  }

  const externalId = text.get('externalId')?.text ?? null;
  if (externalId !== null && externalId.length > LIMITS.externalIdLength) {
    issue('externalId', `must be at most ${LIMITS.externalIdLength} characters`);
  }

  // Built without a prototype so no key can reach Object.prototype, then returned as a plain object.
  const collected: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  const attributeProblems: string[] = [];
  for (const [key, value] of [...nestedAttributes, ...attributeEntries]) {
    if (UNSAFE_KEYS.has(key) || value === undefined) continue;
    const copied = copyAttributeValue(value, 1);
    if (copied.ok) collected[key] = copied.value;
    else attributeProblems.push(`"${key}": ${copied.message}`);
  }
  const attributes: Record<string, unknown> = { ...collected };
  attributeProblems.push(...attributeIssues(attributes));
  for (const problem of attributeProblems) issue('attributes', problem);

  if (issues.length > 0 || phone === null) return { ok: false, issues };
  return {
    ok: true,
    lead: { phone, email, firstName, lastName, state, zip, campaign, externalId, attributes },
  };
}
