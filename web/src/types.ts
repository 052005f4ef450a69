/**
 * The API's shapes, taken from the schemas that validate it (`functions/api/schemas.ts`), so the
 * dashboard and the API cannot disagree about a field. Type-only imports: nothing of zod reaches the
 * bundle.
 */
import type { z } from 'zod';
import type * as api from '../../functions/api/schemas.js';
import type { LeadStatus } from '../../functions/domain/types.js';
import type { analytics } from '../../functions/usecases/analytics.js';

export type { LeadStatus };
export type Lead = z.output<typeof api.Lead>;
export type LeadDetail = z.output<typeof api.LeadDetail>;
export type Assignment = z.output<typeof api.Assignment>;
export type TraceEntry = z.output<typeof api.TraceEntrySchema>;
export type StoredEvent = z.output<typeof api.EventSchema>;
export type Recipient = z.output<typeof api.Recipient>;
export type RecipientInput = z.input<typeof api.RecipientCreate>;
export type Campaign = z.output<typeof api.Campaign>;
export type CampaignInput = z.input<typeof api.CampaignCreate>;
export type WorkingHours = NonNullable<Recipient['workingHours']>;

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** What lead events carry in `data.lead` (functions/usecases/runAllocation.ts `leadSummary`). */
export interface LeadSummary {
  id: string;
  status: LeadStatus;
  reason: string | null;
  firstName: string | null;
  lastName: string | null;
  state: string | null;
  campaign: string | null;
  receivedAt: string;
}

/** A realtime message (`/ws`) or a stored event (`/api/events`): the same record. */
export interface LiveEvent {
  id: number;
  type: string;
  at: string;
  data: Record<string, unknown>;
}

export interface Stats {
  leads: { total: number; byStatus: Partial<Record<LeadStatus, number>> };
  assignedToday: number;
  recipients: {
    id: string;
    name: string;
    active: boolean;
    assignedToday: number;
    dailyCap: number | null;
    quota: number | null;
    quotaRemaining: number | null;
  }[];
  queue: { depth: number | null; inFlight: number | null; dlq: number | null };
  unpublishedEvents: number;
}

/** `POST /api/campaigns/:key/simulate`: what the allocator would decide, without storing anything. */
export type SimulationResult = z.output<typeof api.SimulationResults>['results'][number];
export type SimulationOverrides = NonNullable<z.input<typeof api.Simulate>['overrides']>;
export type ReassignResult = z.output<typeof api.ReassignResult>;
/** `GET /api/analytics`: counts over every lead and assignment of a window, computed by the server. */
export type AnalyticsSummary = Awaited<ReturnType<typeof analytics>>;

/*
 * Shapes of routes whose schemas live in their route files (functions/api/routes/orders.ts, imports.ts,
 * jobs.ts, dlq.ts, notifications.ts), not all of which every server has: kept in step with those by
 * the browser tests.
 */
export type OrderStatus = 'open' | 'filled' | 'fulfilled' | 'deleted';
export interface Order {
  id: string;
  number: number;
  customerName: string;
  customerEmail: string;
  requestedStates: string[];
  quantity: number | null;
  status: OrderStatus;
  leadCount: number;
  createdAt: string;
  updatedAt: string;
  filledAt: string | null;
  fulfilledAt: string | null;
  deletedAt: string | null;
}
export interface OrderDetail extends Order {
  leadsByState: Record<string, number>;
  leads: {
    id: string;
    firstName: string | null;
    lastName: string | null;
    phone: string | null;
    email: string | null;
    state: string | null;
    zip: string | null;
    status: string;
    receivedAt: string;
    soldAt: string;
  }[];
}
export interface OrderPage {
  items: Order[];
  page: number;
  limit: number;
  total: number;
}
/** `GET|PUT /api/state-caps`: the most leads of one state a single order may receive. */
export interface StateCaps {
  default: number;
  caps: Record<string, number>;
}
export interface BadRow {
  row: number;
  field: string;
  message: string;
}

export interface ImportRun {
  id: string;
  importId: string | null;
  trigger: 'schedule' | 'manual' | 'upload';
  status: 'running' | 'succeeded' | 'failed' | 'skipped';
  complete: boolean;
  rowsSeen: number;
  imported: number;
  duplicates: number;
  unchanged: number;
  badRows: number;
  bad: BadRow[];
  error: string | null;
  startedAt: string;
  finishedAt: string | null;
}

export interface LeadImport {
  id: string;
  name: string;
  kind: 'google_sheet' | 'csv_url';
  spreadsheetId: string | null;
  range: string | null;
  url: string | null;
  campaign: string;
  columnMap: Record<string, string>;
  schedule: string | null;
  active: boolean;
  auth: 'api_key' | 'service_account' | 'none';
  serviceAccountEmail: string | null;
  /** Set when the stored credentials cannot be opened (the server's key changed): enter them again. */
  credentialsProblem: string | null;
  nextRunAt: string | null;
  lastRunAt: string | null;
  lastRun: ImportRun | null;
}

export interface UploadSummary {
  runId: string;
  status: 'running' | 'succeeded' | 'failed';
  complete: boolean;
  rows: number;
  imported: number;
  duplicates: number;
  badRows: number;
  bad: BadRow[];
  badTruncated: boolean;
  error: string | null;
  startedAt: string;
  finishedAt: string | null;
}

export interface JobRun {
  id: string;
  job: string;
  scope: 'org' | 'all';
  trigger: 'schedule' | 'manual' | 'event';
  status: 'running' | 'succeeded' | 'failed' | 'skipped';
  result: Record<string, unknown>;
  error: string | null;
  startedAt: string;
  finishedAt: string | null;
}

export interface DlqMessage {
  messageId: string;
  type: string | null;
  leadId: string | null;
  receivedAt: string | null;
  sentAt: string | null;
  receiveCount: number | null;
}

export interface Notification {
  id: string;
  type: string;
  title: string;
  subject: string;
  data: Record<string, unknown>;
  createdAt: string;
  readAt: string | null;
}
