/**
 * The `automation` job (every minute): due schedule rules, event rules over newly committed events,
 * and the orders' safety-net fill from stock. Concurrent invocations are safe: every rule run is
 * claimed in the database first, and fills serialise on each org's stock lock.
 */
import { runAutomation } from '../usecases/automation.js';

export const handler = async () => runAutomation();
