import type { Scenario } from '../harness.js';
import { ackScenario } from './ack.js';
import { burstScenario } from './burst.js';
import { captureScenario } from './capture.js';
import { firstRunScenario } from './first-run.js';
import { latencyScenario } from './latency.js';
import { startupScenario } from './startup.js';
import { storeScenario } from './store.js';
import { tunnelScenario } from './tunnel.js';
import { webScenario } from './web.js';

/** Every scenario, in the order of PRODUCT.md section 5. */
export const SCENARIOS: readonly Scenario[] = [captureScenario, latencyScenario, ackScenario, tunnelScenario, startupScenario, storeScenario, burstScenario, webScenario, firstRunScenario];
