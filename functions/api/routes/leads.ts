import { z } from 'zod';
import { listAssignments, listLeadAssignments } from '../../adapters/pg/assignments.js';
import { listEventsAfter, listLeadEvents } from '../../adapters/pg/events.js';
import { getLead, listLeads, openAssignees, type LeadRow } from '../../adapters/pg/leads.js';
import { NotFoundError } from '../../domain/errors.js';
import { changeLeadStatus } from '../../usecases/leadStatus.js';
import { reassignLead } from '../../usecases/reassignLead.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import { route } from '../router.js';
import {
  Assignment,
  AssignmentListQuery,
  ErrorBody,
  EventListQuery,
  EventSchema,
  LeadDetail,
  LeadListItem,
  LeadListQuery,
  Page,
  Reassign,
  ReassignResult,
  StatusChange,
} from '../schemas.js';

export function leadView(l: LeadRow) {
  const { orgId: _org, trace: _trace, updatedAt: _u, ...view } = l;
  return view;
}

const isLeadCursor = (v: unknown): v is { t: string; id: string } =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as { t?: unknown }).t === 'string' &&
  typeof (v as { id?: unknown }).id === 'string' &&
  /^[0-9a-f-]{36}$/i.test((v as { id: string }).id) &&
  !Number.isNaN(Date.parse((v as { t: string }).t));
const isIdCursor = (v: unknown): v is { id: number } =>
  typeof v === 'object' && v !== null && Number.isInteger((v as { id?: unknown }).id);

export const leadRoutes = [
  route({
    method: 'GET',
    path: '/api/leads',
    summary: 'List leads, newest first, with filters and a keyset cursor',
    tag: 'Leads',
    auth: 'admin',
    query: LeadListQuery,
    responses: {
      200: { description: 'A page of leads, each with who holds it now', schema: Page(LeadListItem) },
    },
    handle: async ({ orgId, query }) => {
      const after = decodeCursor(query.cursor, isLeadCursor);
      const rows = await listLeads(orgId, {
        ...query,
        limit: query.limit + 1,
        after: after && { receivedAt: after.t, id: after.id },
      });
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      const assignees = await openAssignees(
        orgId,
        page.map((l) => l.id),
      );
      return {
        status: 200,
        body: {
          items: page.map((l) => ({ ...leadView(l), assignees: assignees.get(l.id) ?? [] })),
          nextCursor:
            rows.length > query.limit && last
              ? encodeCursor({ t: last.receivedAt.toISOString(), id: last.id })
              : null,
        },
      };
    },
  }),
  route({
    method: 'GET',
    path: '/api/leads/{id}',
    summary: 'A lead with its assignments, decision trace and event history',
    tag: 'Leads',
    auth: 'admin',
    uuidParams: ['id'],
    responses: {
      200: { description: 'Lead', schema: LeadDetail },
      404: { description: 'Not found', schema: ErrorBody },
    },
    handle: async ({ orgId, params }) => {
      const lead = await getLead(orgId, params.id!);
      if (!lead) throw new NotFoundError('Lead not found');
      const [assignments, events] = await Promise.all([
        listLeadAssignments(orgId, lead.id),
        listLeadEvents(orgId, lead.id),
      ]);
      return { status: 200, body: { ...leadView(lead), trace: lead.trace, assignments, events } };
    },
  }),
  route({
    method: 'PATCH',
    path: '/api/leads/{id}/status',
    summary: 'Set a work status (contacted, qualified, won, lost, returned); illegal transitions are 409',
    tag: 'Leads',
    auth: 'admin',
    uuidParams: ['id'],
    body: StatusChange,
    responses: {
      200: {
        description: 'Changed',
        schema: z.object({ id: z.uuid(), status: z.string(), previousStatus: z.string() }),
      },
      409: { description: 'Illegal transition', schema: ErrorBody },
    },
    handle: async ({ orgId, params, body }) => ({
      status: 200,
      body: await changeLeadStatus(orgId, params.id!, body.status),
    }),
  }),
  route({
    method: 'POST',
    path: '/api/leads/{id}/reassign',
    summary:
      'End the current assignments (capacity returned) and assign the named recipients, or let the rule choose',
    tag: 'Leads',
    auth: 'admin',
    uuidParams: ['id'],
    body: Reassign,
    responses: {
      200: { description: 'Reassigned', schema: ReassignResult },
      409: { description: 'Not reassignable now (status, capacity, or nobody eligible)', schema: ErrorBody },
    },
    handle: async ({ orgId, params, body }) => ({
      status: 200,
      body: await reassignLead(orgId, params.id!, body.recipientIds),
    }),
  }),
  route({
    method: 'GET',
    path: '/api/assignments',
    summary: 'List assignments, newest first',
    tag: 'Leads',
    auth: 'admin',
    query: AssignmentListQuery,
    responses: { 200: { description: 'A page of assignments', schema: Page(Assignment) } },
    handle: async ({ orgId, query }) => {
      const before = decodeCursor(query.cursor, isIdCursor);
      const rows = await listAssignments(orgId, { ...query, limit: query.limit + 1, beforeId: before?.id });
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      return {
        status: 200,
        body: {
          items: page,
          nextCursor: rows.length > query.limit && last ? encodeCursor({ id: last.id }) : null,
        },
      };
    },
  }),
  route({
    method: 'GET',
    path: '/api/events',
    summary: 'Events after an id, oldest first: what a reconnecting dashboard missed',
    tag: 'Realtime',
    auth: 'admin',
    query: EventListQuery,
    responses: {
      200: { description: 'Events', schema: z.object({ items: z.array(EventSchema), lastId: z.number() }) },
    },
    handle: async ({ orgId, query }) => {
      const items = await listEventsAfter(orgId, query.after, query.limit);
      return { status: 200, body: { items, lastId: items.at(-1)?.id ?? query.after } };
    },
  }),
];
