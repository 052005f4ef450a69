/**
 * Imported first by the local runtime (`bin/runtime.ts`), before any handler module.
 *
 * Powertools' Tracer loads the AWS X-Ray SDK, which at import starts in "automatic mode": it installs
 * an async hook (cls-hooked) with init/before/after/destroy callbacks on every async resource, every
 * Promise included, and keeps a context per resource until it is garbage-collected. Locally tracing is
 * off (`functions/powertools.ts`), so that hook is pure cost on the one event loop that runs ingest,
 * the stand-ins and the allocator: in the pipeline bench's CPU profile of the runtime, the destroy-hook
 * registration alone was 5 % of the busy time, plus the async-hook callbacks and their garbage. Manual
 * mode skips the hook. On Lambda, where tracing is on, automatic mode is what the Tracer needs; this
 * file is not part of any Lambda bundle.
 */
process.env.AWS_XRAY_MANUAL_MODE ??= '1';
