import assert from 'node:assert/strict';
import { test } from 'node:test';
import { worthCollecting } from '../../src/ui/worker-heap.js';

const MB = 1024 * 1024;

test('the live UI worker collects its heap once it has doubled since the last collection, and never below 40 MB', () => {
  // A heap that doubled past the floor is worth a full collection
  assert.equal(worthCollecting(44 * MB, 20 * MB), true);
  assert.equal(worthCollecting(40 * MB, 20 * MB), true);
  // Not before it doubled
  assert.equal(worthCollecting(39 * MB, 20 * MB), false);
  assert.equal(worthCollecting(60 * MB, 31 * MB), false);
  // Nor below the floor, however much it grew (a fresh worker's heap is mostly its code)
  assert.equal(worthCollecting(30 * MB, 5 * MB), false);
});
