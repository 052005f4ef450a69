/**
 * Scheduled (every 5 minutes, which covers recipients' local midnights): retries leads of push
 * campaigns waiting for a recipient, oldest first. Idempotent under at-least-once and concurrent runs.
 */
import type { Context } from 'aws-lambda';
import { runBacklog } from '../usecases/backlog.js';
import { budgetFrom } from '../usecases/jobs.js';

export const handler = async (_event: unknown, context?: Context) =>
  runBacklog({ trigger: 'schedule', budgetMs: budgetFrom(context) });
