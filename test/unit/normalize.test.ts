import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  normalizeLeadInput,
  normalizePhone,
  normalizeState,
  normalizeZip,
  splitFullName,
  type NormalizeResult,
} from '../../functions/domain/normalize.js';
import type { NormalizedLead } from '../../functions/domain/types.js';
import { aRawLead } from './factories.js';

function leadOf(result: NormalizeResult): NormalizedLead {
  if (!result.ok) throw new Error(`expected a lead, got issues ${JSON.stringify(result.issues)}`);
  return result.lead;
}

function issuesOf(result: NormalizeResult): { field: string; message: string }[] {
  if (result.ok) throw new Error('expected issues, got a lead');
  return result.issues;
}

describe('normalizeLeadInput: field names', () => {
  it.each([
    ['firstName', 'firstName'],
    ['first_name', 'firstName'],
    ['fname', 'firstName'],
    ['First Name', 'firstName'],
    ['first-name', 'firstName'],
    ['FIRST_NAME', 'firstName'],
    ['lastName', 'lastName'],
    ['last_name', 'lastName'],
    ['lname', 'lastName'],
    ['Last Name', 'lastName'],
    ['email', 'email'],
    ['email_address', 'email'],
    ['Email Address', 'email'],
    ['state', 'state'],
    ['region', 'state'],
    ['province', 'state'],
    ['zip', 'zip'],
    ['zip_code', 'zip'],
    ['zipcode', 'zip'],
    ['postal_code', 'zip'],
    ['postalCode', 'zip'],
    ['campaign', 'campaign'],
    ['campaign_key', 'campaign'],
    ['externalId', 'externalId'],
    ['external_id', 'externalId'],
    ['id', 'externalId'],
    ['lead_id', 'externalId'],
  ] as const)('reads %j as %s', (incoming, field) => {
    // Prepare
    const values: Record<string, string> = {
      firstName: 'Grace',
      lastName: 'Hopper',
      email: 'grace@example.com',
      state: 'NY',
      zip: '10001',
      campaign: 'navy',
      externalId: 'row-17',
    };

    // Act
    const lead = leadOf(normalizeLeadInput({ phone: '4155552671', [incoming]: values[field] }));

    // Assess
    expect(lead[field]).toBe(values[field]);
    expect(lead.attributes).toEqual({});
  });

  it.each(['phone', 'phone_number', 'phoneNumber', 'Phone Number', 'mobile', 'tel'])(
    'reads %j as phone',
    (incoming) => {
      expect(leadOf(normalizeLeadInput({ [incoming]: '(415) 555-2671' })).phone).toBe('+14155552671');
    },
  );

  it.each(['name', 'full_name', 'fullName', 'Full Name'])(
    'splits %j into first and last name',
    (incoming) => {
      // Act
      const lead = leadOf(normalizeLeadInput({ phone: '4155552671', [incoming]: '  Mary Ann   Smith ' }));

      // Assess
      expect([lead.firstName, lead.lastName]).toEqual(['Mary Ann', 'Smith']);
      expect(lead.attributes).toEqual({});
    },
  );

  it('keeps given first and last names over a full name, and the full name as an attribute', () => {
    // Act
    const lead = leadOf(
      normalizeLeadInput({ phone: '4155552671', first_name: 'Ada', full_name: 'Augusta Ada King' }),
    );

    // Assess
    expect([lead.firstName, lead.lastName]).toEqual(['Ada', null]);
    expect(lead.attributes).toEqual({ full_name: 'Augusta Ada King' });
  });

  it('prefers the plainer spelling when two are sent, and keeps the other as an attribute', () => {
    // Act
    const lead = leadOf(normalizeLeadInput({ mobile: '212-555-1234', phone: '(415) 555-2671' }));

    // Assess
    expect(lead.phone).toBe('+14155552671');
    expect(lead.attributes).toEqual({ mobile: '212-555-1234' });
  });

  it('falls back to another spelling when the preferred one is empty', () => {
    expect(leadOf(normalizeLeadInput({ phone: '  ', mobile: '212-555-1234' })).phone).toBe('+12125551234');
  });

  it('reads a complete Make.com body', () => {
    // Act
    const result = normalizeLeadInput(aRawLead({ utm_source: 'facebook', campaign: 'solar-2024' }));

    // Assess
    expect(result).toEqual({
      ok: true,
      lead: {
        phone: '+14155552671',
        email: 'ada@example.com',
        firstName: 'Ada',
        lastName: 'Lovelace',
        state: 'CA',
        zip: '94105',
        campaign: 'solar-2024',
        externalId: null,
        attributes: { utm_source: 'facebook' },
      },
    });
  });
});

describe('normalizeLeadInput: source field mapping', () => {
  it('maps a source’s own names onto our fields, loosely matched', () => {
    // Act
    const lead = leadOf(
      normalizeLeadInput(
        { 'Cell #': '4155552671', given: 'Alan', ST: 'ca' },
        {
          fieldMap: { 'cell #': 'phone', Given: 'first_name', st: 'state' },
        },
      ),
    );

    // Assess
    expect(lead).toMatchObject({ phone: '+14155552671', firstName: 'Alan', state: 'CA', attributes: {} });
  });

  it('lets the mapping win over a built-in alias', () => {
    // Act
    const lead = leadOf(
      normalizeLeadInput(
        { phone: '4155552671', 'Best number': '212-555-1234' },
        { fieldMap: { 'Best number': 'phone' } },
      ),
    );

    // Assess
    expect(lead.phone).toBe('+12125551234');
    expect(lead.attributes).toEqual({ phone: '4155552671' });
  });

  it('renames into attributes when the target is not one of our fields', () => {
    // Act
    const lead = leadOf(
      normalizeLeadInput(
        { phone: '4155552671', utm_source: 'google' },
        { fieldMap: { utm_source: 'source' } },
      ),
    );

    // Assess
    expect(lead.attributes).toEqual({ source: 'google' });
  });
});

describe('normalizeLeadInput: values', () => {
  it('trims strings and treats empty strings as missing', () => {
    // Act
    const lead = leadOf(
      normalizeLeadInput({
        phone: ' 4155552671 ',
        first_name: '  Ada ',
        last_name: '',
        email: '   ',
        state: '',
        zip: ' ',
      }),
    );

    // Assess
    expect(lead).toMatchObject({ firstName: 'Ada', lastName: null, email: null, state: null, zip: null });
  });

  it('accepts numbers where sheets send them', () => {
    // Act
    const lead = leadOf(normalizeLeadInput({ phone: 4155552671, zip: 2134, external_id: 98765 }));

    // Assess
    expect(lead).toMatchObject({ phone: '+14155552671', zip: '02134', externalId: '98765' });
  });

  it('rejects values that are neither strings nor numbers, on the field', () => {
    // Act
    const issues = issuesOf(
      normalizeLeadInput({ phone: { number: '4155552671' }, email: true, state: ['CA'] }),
    );

    // Assess
    expect(issues.map((i) => i.field)).toEqual(['phone', 'email', 'state']);
    expect(issues[0]?.message).toBe('must be a string or a number');
  });

  it('keeps HTML and SQL as inert text', () => {
    // Prepare
    const script = '<script>alert(1)</script>';
    const sql = "Robert'); DROP TABLE leads;--";

    // Act
    const lead = leadOf(
      normalizeLeadInput({ phone: '4155552671', first_name: script, last_name: sql, note: script }),
    );

    // Assess
    expect([lead.firstName, lead.lastName, lead.attributes.note]).toEqual([script, sql, script]);
  });

  it('lower-cases the email', () => {
    expect(
      leadOf(normalizeLeadInput({ phone: '4155552671', email: ' Ada.Lovelace+Leads@Example.COM ' })).email,
    ).toBe('ada.lovelace+leads@example.com');
  });

  it('accepts a campaign key of letters, digits, "_", "." and "-"', () => {
    expect(leadOf(normalizeLeadInput({ phone: '4155552671', campaign: 'Solar_2024.v2-ca' })).campaign).toBe(
      'Solar_2024.v2-ca',
    );
  });

  it('reports a missing phone', () => {
    expect(issuesOf(normalizeLeadInput({ first_name: 'Ada' }))).toEqual([
      { field: 'phone', message: 'is required' },
    ]);
  });

  it('reports a body that is not an object', () => {
    expect(issuesOf(normalizeLeadInput([] as unknown as Record<string, unknown>))[0]?.field).toBe('body');
  });

  it('lists every problem, each on its field', () => {
    // Act
    const issues = issuesOf(
      normalizeLeadInput({
        phone: '555-0100',
        email: 'not-an-email',
        first_name: 'A'.repeat(101),
        last_name: 'B'.repeat(101),
        state: 'Narnia',
        zip: 'ABCDE',
        campaign: 'spring sale',
        external_id: 'x'.repeat(201),
        ...Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`extra_${i}`, i])),
      }),
    );

    // Assess
    expect(issues.map((i) => i.field)).toEqual([
      'phone',
      'email',
      'firstName',
      'lastName',
      'state',
      'zip',
      'campaign',
      'externalId',
      'attributes',
    ]);
    expect(issues.every((i) => i.message.length > 0)).toBe(true);
  });

  it.each([
    ['email', 'a'.repeat(250) + '@x.co', 'email'],
    ['campaign', 'c'.repeat(101), 'campaign'],
    ['full_name', 'N'.repeat(101), 'name'],
    ['first_name', 'N'.repeat(100), null],
    ['external_id', 'e'.repeat(200), null],
  ])('limits %s lengths', (incoming, value, field) => {
    // Act
    const result = normalizeLeadInput({ phone: '4155552671', [incoming]: value });

    // Assess
    if (field === null) expect(result.ok).toBe(true);
    else expect(issuesOf(result).map((i) => i.field)).toEqual([field]);
  });
});

describe('normalizeLeadInput: attributes', () => {
  it('keeps unknown fields as given', () => {
    // Prepare
    const extras = {
      utm_source: 'fb',
      score: 42,
      consent: true,
      tags: ['a', 'b'],
      meta: { page: '/x', empty: '' },
    };

    // Act
    const lead = leadOf(normalizeLeadInput({ phone: '4155552671', ...extras }));

    // Assess
    expect(lead.attributes).toEqual(extras);
  });

  it('merges a nested attributes object, top-level fields winning', () => {
    // Act
    const lead = leadOf(normalizeLeadInput({ phone: '4155552671', attributes: { a: 1, b: 2 }, b: 3 }));

    // Assess
    expect(lead.attributes).toEqual({ a: 1, b: 3 });
  });

  it('drops prototype-polluting keys at every level and returns a plain object', () => {
    // Prepare: JSON.parse makes "__proto__" an own key, as a real request body would
    const raw = JSON.parse(
      '{"phone":"4155552671","__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}},' +
        '"prototype":1,"nested":{"__proto__":{"polluted":1},"ok":1},"attributes":{"__proto__":{"polluted":1}}}',
    ) as Record<string, unknown>;

    // Act
    const lead = leadOf(normalizeLeadInput(raw));

    // Assess
    expect(lead.attributes).toEqual({ nested: { ok: 1 } });
    expect(Object.getPrototypeOf(lead.attributes)).toBe(Object.prototype);
    expect(Object.keys(lead.attributes.nested as object)).toEqual(['ok']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('allows 50 keys and rejects 51', () => {
    const keys = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]));
    expect(normalizeLeadInput({ phone: '4155552671', ...keys(50) }).ok).toBe(true);
    expect(issuesOf(normalizeLeadInput({ phone: '4155552671', ...keys(51) }))).toEqual([
      { field: 'attributes', message: 'at most 50 keys (got 51)' },
    ]);
  });

  it('rejects more than 16 KiB of attributes', () => {
    // Act
    const issues = issuesOf(normalizeLeadInput({ phone: '4155552671', notes: 'x'.repeat(16 * 1024) }));

    // Assess
    expect(issues).toHaveLength(1);
    expect(issues[0]?.field).toBe('attributes');
  });

  it('allows five levels of nesting and rejects six, without deep recursion', () => {
    // Prepare: the attributes object is level 1
    const fiveLevels = { a: { b: { c: { d: { e: 'leaf' } } } } };
    const sixLevels = { a: { b: { c: { d: { e: { f: 'leaf' } } } } } };
    let hostile: unknown = 'leaf';
    for (let i = 0; i < 100_000; i++) hostile = [hostile];

    // Act / Assess
    expect(leadOf(normalizeLeadInput({ phone: '4155552671', ...fiveLevels })).attributes).toEqual(fiveLevels);
    expect(issuesOf(normalizeLeadInput({ phone: '4155552671', ...sixLevels }))[0]?.field).toBe('attributes');
    expect(issuesOf(normalizeLeadInput({ phone: '4155552671', hostile }))[0]?.field).toBe('attributes');
  });
});

describe('normalizeLeadInput: robustness', () => {
  it('never throws, reports only known fields, and never touches Object.prototype', () => {
    const knownFields = [
      'body',
      'phone',
      'email',
      'firstName',
      'lastName',
      'name',
      'state',
      'zip',
      'campaign',
      'externalId',
      'attributes',
    ];
    const keys = fc.oneof(
      fc.constantFrom(
        'phone',
        'Phone Number',
        'first_name',
        'name',
        'state',
        'zip',
        'email',
        'id',
        '__proto__',
        'constructor',
        'attributes',
      ),
      fc.string({ maxLength: 12 }),
    );
    fc.assert(
      fc.property(fc.dictionary(keys, fc.jsonValue({ maxDepth: 7 }), { maxKeys: 12 }), (raw) => {
        // Act
        const result = normalizeLeadInput(raw);

        // Assess
        if (result.ok) expect(result.lead.phone).toMatch(/^\+\d{8,15}$/);
        else for (const issue of result.issues) expect(knownFields).toContain(issue.field);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
      { numRuns: 500 },
    );
  });
});

describe('normalizePhone', () => {
  it.each([
    ['(415) 555-2671', '+14155552671'],
    ['+1 415 555 2671', '+14155552671'],
    ['4155552671', '+14155552671'],
    ['1-415-555-2671', '+14155552671'],
    ['415.555.2671', '+14155552671'],
    ['+44 20 7946 0958', '+442079460958'],
  ])('%j → %s', (input, expected) => {
    expect(normalizePhone(input)).toBe(expected);
  });

  it.each(['', 'abc', '123', '555-0100', '(555) 555-5555', '123-456-7890', '+1 415 555 26'])(
    'rejects %j',
    (input) => {
      expect(normalizePhone(input)).toBeNull();
    },
  );

  it('parses in another default country', () => {
    expect(normalizePhone('020 7946 0958', 'GB')).toBe('+442079460958');
  });
});

describe('normalizeState', () => {
  it.each([
    ['CA', 'CA'],
    ['ca', 'CA'],
    ['California', 'CA'],
    ['CALIFORNIA', 'CA'],
    [' new york ', 'NY'],
    ['New-York', 'NY'],
    ['north carolina', 'NC'],
    ['DC', 'DC'],
    ['D.C.', 'DC'],
    ['Washington DC', 'DC'],
    ['Washington, D.C.', 'DC'],
    ['District of Columbia', 'DC'],
    ['Washington', 'WA'],
    ['Puerto Rico', 'PR'],
    ['gu', 'GU'],
    ['Guam', 'GU'],
    ['US Virgin Islands', 'VI'],
    ['Virgin Islands', 'VI'],
    ['American Samoa', 'AS'],
    ['Northern Mariana Islands', 'MP'],
  ])('%j → %s', (input, expected) => {
    expect(normalizeState(input)).toBe(expected);
  });

  it.each(['Narnia', 'XX', 'Calif', '', 'Ontario'])('rejects %j', (input) => {
    expect(normalizeState(input)).toBeNull();
  });
});

describe('normalizeZip', () => {
  it.each([
    ['12345', '12345'],
    [' 12345 ', '12345'],
    ['12345-6789', '12345-6789'],
    ['12345 6789', '12345-6789'],
    ['123456789', '12345-6789'],
    ['2134', '02134'],
    ['501', '00501'],
    [2134, '02134'],
    [90210, '90210'],
    [21341234, '02134-1234'],
    [123456789, '12345-6789'],
  ] as const)('%j → %s', (input, expected) => {
    expect(normalizeZip(input)).toBe(expected);
  });

  it.each(['12', 'ABCDE', '123456', '1234-567', '12345-', 12, 21.5, -2134, 1234567890])(
    'rejects %j',
    (input) => {
      expect(normalizeZip(input)).toBeNull();
    },
  );
});

describe('splitFullName', () => {
  it.each([
    ['Ada Lovelace', 'Ada', 'Lovelace'],
    ['  Mary   Ann Smith  ', 'Mary Ann', 'Smith'],
    ['Cher', 'Cher', null],
    ['', null, null],
  ])('%j → %s / %s', (input, firstName, lastName) => {
    expect(splitFullName(input)).toEqual({ firstName, lastName });
  });
});
