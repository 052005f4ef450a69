import { z } from 'zod';
import { getCampaign, listCampaigns } from '../../adapters/pg/campaigns.js';
import { NotFoundError } from '../../domain/errors.js';
import { campaignView, createCampaign, patchCampaign } from '../../usecases/campaigns.js';
import { route } from '../router.js';
import {
  Campaign,
  CampaignCreate,
  CampaignPatch,
  ErrorBody,
  Simulate,
  SimulationResults,
} from '../schemas.js';
import { simulateCampaign } from '../../usecases/simulateCampaign.js';

export const campaignRoutes = [
  route({
    method: 'POST',
    path: '/api/campaigns',
    summary: 'Create a campaign (routing rule)',
    tag: 'Campaigns',
    auth: 'admin',
    body: CampaignCreate,
    responses: {
      201: { description: 'Created', schema: Campaign },
      400: { description: 'Invalid', schema: ErrorBody },
      409: { description: 'Key taken', schema: ErrorBody },
    },
    handle: async ({ orgId, body }) => {
      const { key, name, ...rest } = body;
      return {
        status: 201,
        body: campaignView(await createCampaign(orgId, key, { ...rest, name: name ?? key })),
      };
    },
  }),
  route({
    method: 'GET',
    path: '/api/campaigns',
    summary: 'List campaigns',
    tag: 'Campaigns',
    auth: 'admin',
    responses: { 200: { description: 'Campaigns', schema: z.object({ items: z.array(Campaign) }) } },
    handle: async ({ orgId }) => ({
      status: 200,
      body: { items: (await listCampaigns(orgId)).map(campaignView) },
    }),
  }),
  route({
    method: 'GET',
    path: '/api/campaigns/{key}',
    summary: 'Get a campaign',
    tag: 'Campaigns',
    auth: 'admin',
    responses: {
      200: { description: 'Campaign', schema: Campaign },
      404: { description: 'Not found', schema: ErrorBody },
    },
    handle: async ({ orgId, params }) => {
      const c = await getCampaign(orgId, params.key!);
      if (!c) throw new NotFoundError('Campaign not found');
      return { status: 200, body: campaignView(c) };
    },
  }),
  route({
    method: 'PATCH',
    path: '/api/campaigns/{key}',
    summary: 'Update a campaign',
    tag: 'Campaigns',
    auth: 'admin',
    body: CampaignPatch,
    responses: {
      200: { description: 'Updated', schema: Campaign },
      404: { description: 'Not found', schema: ErrorBody },
    },
    handle: async ({ orgId, params, body }) => ({
      status: 200,
      body: campaignView(await patchCampaign(orgId, params.key!, body)),
    }),
  }),
  route({
    method: 'POST',
    path: '/api/campaigns/{key}/simulate',
    summary: 'What the rule would do now with these leads, in order; commits nothing',
    tag: 'Campaigns',
    auth: 'admin',
    body: Simulate,
    responses: {
      200: { description: 'Decisions', schema: SimulationResults },
      404: { description: 'Not found', schema: ErrorBody },
    },
    handle: async ({ orgId, params, body }) => ({
      status: 200,
      body: await simulateCampaign(orgId, params.key!, body.leads, body.overrides ?? {}),
    }),
  }),
];
