import assert from 'node:assert/strict';
import { test } from 'node:test';
import { worthCollecting } from '../../src/ui/worker-heap.js';

const MB = 1024 * 1024;

test('the live UI worker collects its heap once it has grown by half since the last collection, and never below 20 MB', () => {
  // A heap that grew by half past the floor is worth a full collection
  assert.equal(worthCollecting(30 * MB, 20 * MB), true);
  assert.equal(worthCollecting(44 * MB, 20 * MB), true);
  assert.equal(worthCollecting(20 * MB, 12 * MB), true);
  // Not before it grew by half
  assert.equal(worthCollecting(29 * MB, 20 * MB), false);
  assert.equal(worthCollecting(45 * MB, 31 * MB), false);
  // Nor below the floor, however much it grew (a fresh worker's heap is mostly its code)
  assert.equal(worthCollecting(19 * MB, 5 * MB), false);
});
