/** Scheduled jobs: their recorded runs, and running one now for this org. */
import { z } from 'zod';
import { NotFoundError } from '../../domain/errors.js';
import { runBacklog } from '../../usecases/backlog.js';
import { runDecay } from '../../usecases/decay.js';
import { jobRunView, listJobRunViews } from '../../usecases/jobs.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import { route } from '../router.js';
import { ErrorBody } from '../schemas.js';
import { isTimeIdCursor } from './notifications.js';

/** An operator's run answers within the HTTP API's 30 s limit; the schedule does the rest. */
const MANUAL_RUN_BUDGET_MS = 20_000;

const RUNNABLE = {
  decay: runDecay,
  backlog: runBacklog,
} as const;

const JobRun = z
  .object({
    id: z.uuid(),
    job: z.string(),
    trigger: z.enum(['schedule', 'manual', 'event']),
    status: z.enum(['running', 'succeeded', 'failed', 'skipped']),
    result: z.record(z.string(), z.unknown()).openapi({ example: { reassigned: 2, stale: 1, kept: 0 } }),
    error: z.string().nullable(),
    startedAt: z.string(),
    finishedAt: z.string().nullable(),
  })
  .openapi('JobRun');

const RunsQuery = z.object({
  job: z.string().max(50).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
});

export const jobRoutes = [
  route({
    method: 'GET',
    path: '/api/jobs/runs',
    summary:
      'Runs of the scheduled jobs (decay, backlog, imports) for this org, newest first, with their counts',
    tag: 'Jobs',
    auth: 'admin',
    query: RunsQuery,
    responses: {
      200: {
        description: 'Runs',
        schema: z.object({ items: z.array(JobRun), nextCursor: z.string().nullable() }),
      },
    },
    handle: async ({ orgId, query }) => {
      const before = decodeCursor(query.cursor, isTimeIdCursor);
      const { rows, more } = await listJobRunViews(orgId, {
        job: query.job,
        limit: query.limit,
        before: before && { startedAt: before.t, id: before.id },
      });
      const last = rows.at(-1);
      return {
        status: 200,
        body: {
          items: rows,
          nextCursor: more && last ? encodeCursor({ t: last.startedAt.toISOString(), id: last.id }) : null,
        },
      };
    },
  }),
  route({
    method: 'POST',
    path: '/api/jobs/{name}/run',
    summary:
      'Run a job now for this org (decay or backlog); answers with the run — skipped when a run of it is in progress',
    tag: 'Jobs',
    auth: 'admin',
    responses: {
      200: { description: 'The run', schema: JobRun },
      404: { description: 'No such job', schema: ErrorBody },
    },
    handle: async ({ orgId, params }) => {
      const name = params.name ?? '';
      if (!Object.hasOwn(RUNNABLE, name))
        throw new NotFoundError(`No job "${name}" to run (known: ${Object.keys(RUNNABLE).join(', ')})`);
      const run = await RUNNABLE[name as keyof typeof RUNNABLE]({
        orgId,
        trigger: 'manual',
        budgetMs: MANUAL_RUN_BUDGET_MS,
      });
      return { status: 200, body: jobRunView(run) };
    },
  }),
];
