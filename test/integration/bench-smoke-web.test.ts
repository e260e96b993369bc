import { test } from 'node:test';
import { SMOKE_GROUPS, SMOKE_TEST_OPTIONS, smokeScenario } from '../helpers/bench-smoke.js';

// Bench scenarios at tiny size, the web group (see test/helpers/bench-smoke.ts).
for (const name of SMOKE_GROUPS.web) test(`bench scenario ${name} runs at tiny size`, SMOKE_TEST_OPTIONS, smokeScenario(name));
