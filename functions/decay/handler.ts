/**
 * Scheduled (every minute): SLA decay — assigned leads nobody contacted in time are reassigned, or
 * become stale after `maxReassignments`. Idempotent under at-least-once and concurrent invocations.
 */
import type { Context } from 'aws-lambda';
import { runDecay } from '../usecases/decay.js';
import { budgetFrom } from '../usecases/jobs.js';

export const handler = async (_event: unknown, context?: Context) =>
  runDecay({ trigger: 'schedule', budgetMs: budgetFrom(context) });
