/**
 * `/api/sources`: webhook intake channels of the org. A source's secret is returned once (on create
 * and on rotate) and stored only as a hash; rotation keeps the old secret working for an overlap
 * window so an integration can switch without losing a lead.
 */
import { z } from 'zod';
import {
  createSource,
  DEFAULT_OVERLAP_SECONDS,
  getSource,
  listSources,
  patchSource,
  rotateSourceSecret,
} from '../../usecases/sources.js';
import { route } from '../router.js';
import { ErrorBody } from '../schemas.js';

/** Keys that could reach an object's prototype when copied naively. */
const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** PostgreSQL stores no NUL character in text, and jsonb no unpaired UTF-16 surrogate: 400, not 500. */
const UNPAIRED_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const Text = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    .refine((s) => !s.includes('\u0000') && !UNPAIRED_SURROGATE.test(s), {
      message: 'Contains a NUL character or an unpaired surrogate',
    });

const CampaignKey = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9_.-]+$/, 'Letters, digits, "_", "." and "-" only');

/**
 * zod drops a `__proto__` key from records silently (so it can never reach a prototype); it is still
 * hostile input, so it is refused by name before the record is parsed.
 */
const FieldMap = z
  .unknown()
  .superRefine((raw, ctx) => {
    if (typeof raw !== 'object' || raw === null) return;
    for (const key of UNSAFE_KEYS)
      if (Object.hasOwn(raw, key)) ctx.addIssue({ code: 'custom', path: [key], message: 'Reserved key' });
  })
  .pipe(
    z
      .record(Text(100), Text(100))
      .refine((m) => Object.keys(m).length <= 50, { message: 'At most 50 mapped fields' }),
  )
  .openapi('FieldMap', {
    type: 'object',
    additionalProperties: { type: 'string' },
    description: 'Incoming field name → lead field (or an attribute name); at most 50',
    example: { 'Cell #': 'phone', utm_source: 'source' },
  });

const RateLimit = z
  .object({
    perSecond: z.number().int().min(1).max(10_000),
    burst: z.number().int().min(1).max(20_000),
  })
  .refine((r) => r.burst >= r.perSecond, { message: 'burst must be at least perSecond', path: ['burst'] })
  .openapi('RateLimit', { example: { perSecond: 100, burst: 200 } });

const SourceCreate = z
  .object({
    name: Text(200),
    fieldMap: FieldMap.default({}),
    defaultCampaign: CampaignKey.nullable().default(null),
    rateLimit: RateLimit.nullable().default(null),
  })
  .openapi('SourceCreate');

const SourcePatch = z
  .object({
    name: Text(200),
    fieldMap: FieldMap,
    defaultCampaign: CampaignKey.nullable(),
    rateLimit: RateLimit.nullable(),
  })
  .partial()
  .openapi('SourcePatch');

const Rotate = z
  .object({
    overlapSeconds: z
      .number()
      .int()
      .min(0)
      .max(30 * 86_400)
      .optional(),
  })
  .openapi('SourceRotate');

const Source = z
  .object({
    id: z.uuid(),
    name: z.string(),
    kind: z.enum(['webhook', 'sheet', 'csv']),
    fieldMap: z.record(z.string(), z.string()),
    defaultCampaign: z.string().nullable(),
    rateLimit: z.object({ perSecond: z.number(), burst: z.number() }),
    rateLimitIsDefault: z.boolean(),
    previousSecretValidUntil: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi('Source');

const SourceWithSecret = Source.extend({
  secret: z.string().openapi({ description: 'Shown once; send it as X-Webhook-Secret' }),
}).openapi('SourceWithSecret');

const Rotated = z
  .object({ id: z.uuid(), secret: z.string(), previousSecretValidUntil: z.string().nullable() })
  .openapi('SourceRotated');

const notFound = { description: 'Not found (or another org’s)', schema: ErrorBody };

export const sourceRoutes = [
  route({
    method: 'POST',
    path: '/api/sources',
    summary: 'Create a webhook source; its secret is in this response only',
    tag: 'Sources',
    auth: 'admin',
    body: SourceCreate,
    responses: {
      201: { description: 'Created', schema: SourceWithSecret },
      400: { description: 'Invalid', schema: ErrorBody },
    },
    handle: async ({ orgId, body }) => ({ status: 201, body: await createSource(orgId, body) }),
  }),
  route({
    method: 'GET',
    path: '/api/sources',
    summary: 'List sources (never their secrets)',
    tag: 'Sources',
    auth: 'admin',
    responses: { 200: { description: 'Sources', schema: z.object({ items: z.array(Source) }) } },
    handle: async ({ orgId }) => ({ status: 200, body: { items: await listSources(orgId) } }),
  }),
  route({
    method: 'GET',
    path: '/api/sources/{id}',
    summary: 'Get a source (never its secret)',
    tag: 'Sources',
    auth: 'admin',
    uuidParams: ['id'],
    responses: { 200: { description: 'Source', schema: Source }, 404: notFound },
    handle: async ({ orgId, params }) => ({ status: 200, body: await getSource(orgId, params.id!) }),
  }),
  route({
    method: 'PATCH',
    path: '/api/sources/{id}',
    summary: 'Update name, field map, default campaign or rate limit (null = the default)',
    tag: 'Sources',
    auth: 'admin',
    uuidParams: ['id'],
    body: SourcePatch,
    responses: {
      200: { description: 'Updated', schema: Source },
      400: { description: 'Invalid', schema: ErrorBody },
      404: notFound,
    },
    handle: async ({ orgId, params, body }) => ({
      status: 200,
      body: await patchSource(orgId, params.id!, body),
    }),
  }),
  route({
    method: 'POST',
    path: '/api/sources/{id}/rotate',
    summary: `New secret (shown once); the old one keeps working for overlapSeconds (default ${DEFAULT_OVERLAP_SECONDS}, 0 = ends now)`,
    tag: 'Sources',
    auth: 'admin',
    uuidParams: ['id'],
    body: Rotate,
    responses: {
      200: { description: 'Rotated', schema: Rotated },
      404: notFound,
      409: { description: 'Not a webhook source', schema: ErrorBody },
    },
    handle: async ({ orgId, params, body }) => ({
      status: 200,
      body: await rotateSourceSecret(orgId, params.id!, body.overlapSeconds),
    }),
  }),
];
