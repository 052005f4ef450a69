/**
 * CSV import: uploads to `POST /api/leads/import` (text/csv), timed from the first byte sent to the
 * response: a 500-row probe for the path's rate, then the N-row file, with the runtime process's peak
 * RSS over that upload (VmHWM, reset just before).
 * Measured only when the running build serves the endpoint (it is listed in its OpenAPI document).
 */
import { stringify } from 'csv-stringify/sync';
import { STATES, nextPhone } from './dataset.js';
import type { RuntimeChild } from './runtimeChild.js';

export interface ImportResult {
  available: boolean;
  /** A small upload first (it fits the API's 30 s limit at any plausible rate): the path's rate. */
  probe: { rows: number; seconds: number; rowsPerSec: number; status: number } | null;
  rows: number;
  seconds: number | null;
  rowsPerSec: number | null;
  peakRssMiB: number | null;
  rssBeforeMiB: number | null;
  response: unknown;
  note?: string;
}

export async function importEndpointAvailable(rt: RuntimeChild): Promise<boolean> {
  const res = await fetch(`${rt.url}/api/openapi.json`, {
    headers: { authorization: `Bearer ${rt.adminToken}` },
  });
  if (res.status !== 200) return false;
  const doc = (await res.json()) as { paths?: Record<string, unknown> };
  return Boolean(doc.paths?.['/api/leads/import']);
}

export function csvRows(rows: number): string {
  const records = Array.from({ length: rows }, (_, i) => [
    nextPhone(),
    `Imported${i}`,
    'Csv',
    STATES[i % STATES.length]!,
    `imported${i}@example.com`,
  ]);
  return stringify(records, {
    header: true,
    columns: ['phone', 'first_name', 'last_name', 'state', 'email'],
  });
}

export async function measureImport(
  rt: RuntimeChild,
  opts: { rows: number; probeRows: number; campaign: string },
): Promise<ImportResult> {
  const { rows, probeRows, campaign } = opts;
  if (!(await importEndpointAvailable(rt)))
    return {
      available: false,
      probe: null,
      rows,
      seconds: null,
      rowsPerSec: null,
      peakRssMiB: null,
      rssBeforeMiB: null,
      response: null,
      note: 'POST /api/leads/import is not served by this build (not in its OpenAPI document)',
    };
  const auth = { authorization: `Bearer ${rt.adminToken}` };
  /**
   * One upload, timed until every row is through the webhook's checks and on the queue: the response,
   * or, when the API answers before the end of a large file (`complete: false`), the upload's run as
   * the scheduled import job finishes it.
   */
  const upload = async (csv: string) => {
    const t = performance.now();
    const res = await fetch(`${rt.url}/api/leads/import?campaign=${encodeURIComponent(campaign)}`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'text/csv' },
      body: csv,
    });
    let body = (await res.json()) as Record<string, unknown>;
    const answeredSeconds = (performance.now() - t) / 1000;
    const deadline = performance.now() + 20 * 60_000;
    while (res.status < 300 && body.complete === false && typeof body.runId === 'string') {
      if (performance.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 500));
      body = (await (
        await fetch(`${rt.url}/api/leads/import/${body.runId}`, { headers: auth })
      ).json()) as Record<string, unknown>;
    }
    // A run the runner gave up on is complete too (`complete: true`, `status: "failed"`): not a result.
    const complete = res.status < 300 && body.complete !== false && body.status !== 'failed';
    return { status: res.status, body, answeredSeconds, complete, seconds: (performance.now() - t) / 1000 };
  };
  const first = await upload(csvRows(probeRows));
  const probe = {
    rows: probeRows,
    seconds: Math.round(first.seconds * 100) / 100,
    rowsPerSec: first.complete ? Math.round(probeRows / first.seconds) : 0,
    status: first.status,
  };
  if (rows === 0)
    return {
      available: true,
      probe,
      rows,
      seconds: null,
      rowsPerSec: null,
      peakRssMiB: null,
      rssBeforeMiB: null,
      response: null,
      note: 'probe only (--quick)',
    };
  const csv = csvRows(rows);
  rt.resetPeakRss();
  const rssBeforeMiB = rt.rssMiB();
  const { status, body, seconds, answeredSeconds, complete } = await upload(csv);
  const peakRssMiB = rt.peakRssMiB();
  const { bad: _bad, ...summary } = body;
  return {
    available: true,
    probe,
    rows,
    seconds: Math.round(seconds * 100) / 100,
    rowsPerSec: complete ? Math.round(rows / seconds) : null,
    peakRssMiB,
    rssBeforeMiB,
    response: { status, answeredSeconds: Math.round(answeredSeconds * 100) / 100, ...summary },
    ...(!complete
      ? {
          note:
            status >= 300
              ? `the ${rows}-row upload answered ${status} after ${Math.round(seconds)} s (the API's limit is 30 s)`
              : `the ${rows}-row upload did not finish: ${JSON.stringify({ status: body.status, error: body.error })}`,
        }
      : {}),
  };
}
