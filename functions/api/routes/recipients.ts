import { getRecipient, listRecipients } from '../../adapters/pg/recipients.js';
import { clock } from '../../clock.js';
import { NotFoundError } from '../../domain/errors.js';
import { createRecipient, patchRecipient, recipientView } from '../../usecases/recipients.js';
import { route } from '../router.js';
import { ErrorBody, Recipient, RecipientCreate, RecipientPatch } from '../schemas.js';
import { z } from 'zod';

export const recipientRoutes = [
  route({
    method: 'POST',
    path: '/api/recipients',
    summary: 'Create a recipient (caller, provider or buyer)',
    tag: 'Recipients',
    auth: 'admin',
    body: RecipientCreate,
    responses: {
      201: { description: 'Created', schema: Recipient },
      400: { description: 'Invalid', schema: ErrorBody },
    },
    handle: async ({ orgId, body }) => ({
      status: 201,
      body: recipientView(await createRecipient(orgId, { ...body, email: body.email ?? null })),
    }),
  }),
  route({
    method: 'GET',
    path: '/api/recipients',
    summary: 'List recipients with today’s count and remaining quota',
    tag: 'Recipients',
    auth: 'admin',
    responses: { 200: { description: 'Recipients', schema: z.object({ items: z.array(Recipient) }) } },
    handle: async ({ orgId }) => ({
      status: 200,
      body: { items: (await listRecipients(orgId, clock().now())).map(recipientView) },
    }),
  }),
  route({
    method: 'GET',
    path: '/api/recipients/{id}',
    summary: 'Get a recipient',
    tag: 'Recipients',
    auth: 'admin',
    uuidParams: ['id'],
    responses: {
      200: { description: 'Recipient', schema: Recipient },
      404: { description: 'Not found', schema: ErrorBody },
    },
    handle: async ({ orgId, params }) => {
      const r = await getRecipient(orgId, params.id!, clock().now());
      if (!r) throw new NotFoundError('Recipient not found');
      return { status: 200, body: recipientView(r) };
    },
  }),
  route({
    method: 'PATCH',
    path: '/api/recipients/{id}',
    summary: 'Update a recipient (pause with {"active": false})',
    tag: 'Recipients',
    auth: 'admin',
    uuidParams: ['id'],
    body: RecipientPatch,
    responses: {
      200: { description: 'Updated', schema: Recipient },
      404: { description: 'Not found', schema: ErrorBody },
    },
    handle: async ({ orgId, params, body }) => ({
      status: 200,
      body: recipientView(await patchRecipient(orgId, params.id!, body)),
    }),
  }),
];
