import { test } from 'node:test';
import { SMOKE_GROUPS, SMOKE_TEST_OPTIONS, smokeScenario, groupsCoverEveryScenario } from '../helpers/bench-smoke.js';

// Bench scenarios at tiny size, the load group (see test/helpers/bench-smoke.ts).
for (const name of SMOKE_GROUPS.load) test(`bench scenario ${name} runs at tiny size`, SMOKE_TEST_OPTIONS, smokeScenario(name));

test('every bench scenario is in exactly one smoke-test group', groupsCoverEveryScenario);
