/**
 * Scheduled safety net for realtime: pushes events that were committed but not pushed right after
 * their commit (the writer crashed or a push failed). Idempotent under concurrent runs (rows are
 * claimed with `skip locked`).
 */
import { relayOutbox } from '../usecases/publishEvents.js';

export const handler = async () => relayOutbox();
