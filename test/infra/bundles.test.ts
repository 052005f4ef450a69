/**
 * Bundle sizes, measured with the deploy's esbuild options (`bin/bundle-sizes.ts`): every registry entry
 * bundles, none drags in the AWS SDK v2, and none outgrows the budget — cold start and deploy time grow
 * with the bundle.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { measureBundles, type BundleSize } from '../../bin/bundle-sizes.js';
import { handlers } from '../../functions/registry.js';

/**
 * Minified bytes per function. About 1.6× the largest bundle when this was set (ingest, 1.24 MiB, most of
 * it zod and the SDK's core); raise it deliberately, not to make a failing build pass.
 */
const BUDGET_BYTES = 2 * 1024 * 1024;

let sizes: BundleSize[];

beforeAll(async () => {
  sizes = await measureBundles();
}, 300_000);

describe('Lambda bundles', () => {
  it('bundles every registry entry', () => {
    expect(sizes.map((s) => s.name).sort()).toEqual(Object.keys(handlers).sort());
  });

  it('never includes the AWS SDK v2', () => {
    const withV2 = sizes.filter((s) => s.packages.some(([pkg]) => pkg === 'aws-sdk')).map((s) => s.name);
    expect(withV2).toEqual([]);
  });

  it(`keeps every bundle under ${BUDGET_BYTES / 1024 / 1024} MiB minified`, () => {
    const over = sizes.filter((s) => s.bytes > BUDGET_BYTES).map((s) => `${s.name}: ${s.bytes} bytes`);
    expect(over).toEqual([]);
  });
});
