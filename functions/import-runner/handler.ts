/**
 * Scheduled (every minute): runs the imports whose own schedule makes them due. Each import runs under
 * its own lease and claims rows by identity, so overlapping invocations import every row once.
 */
import type { Context } from 'aws-lambda';
import { runScheduledImports } from '../usecases/imports.js';
import { budgetFrom } from '../usecases/jobs.js';

export const handler = async (_event: unknown, context?: Context) =>
  runScheduledImports({ budgetMs: budgetFrom(context) });
