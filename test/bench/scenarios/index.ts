import type { Scenario } from '../harness.js';
import { ackScenario } from './ack.js';
import { backpressureScenario } from './backpressure.js';
import { burstScenario } from './burst.js';
import { exportScenario } from './export.js';
import { captureScenario } from './capture.js';
import { firstRunScenario } from './first-run.js';
import { latencyScenario } from './latency.js';
import { reconcileScenario } from './reconcile.js';
import { startupScenario } from './startup.js';
import { storeScenario } from './store.js';
import { tunnelScenario } from './tunnel.js';
import { uiMemoryScenario } from './ui-memory.js';
import { webScenario } from './web.js';

/** Every scenario, in the order of the speed targets' table. */
export const SCENARIOS: readonly Scenario[] = [
  captureScenario,
  latencyScenario,
  ackScenario,
  tunnelScenario,
  startupScenario,
  storeScenario,
  exportScenario,
  burstScenario,
  uiMemoryScenario,
  backpressureScenario,
  webScenario,
  firstRunScenario,
  reconcileScenario,
];
