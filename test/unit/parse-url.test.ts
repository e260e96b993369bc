import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseHttpUrl } from '../../src/parse.js';

test('a handler URL without a scheme means http://; other schemes and junk are refused', () => {
  // Given what users type after --forward-to / --to
  assert.equal(parseHttpUrl('localhost:3000/hook'), 'http://localhost:3000/hook');
  assert.equal(parseHttpUrl('127.0.0.1:3000'), 'http://127.0.0.1:3000/');
  assert.equal(parseHttpUrl('  https://example.test/hook?x=1 '), 'https://example.test/hook?x=1');
  assert.equal(parseHttpUrl('HTTP://Localhost:3000/Hook'), 'http://localhost:3000/Hook');
  // Then a scheme that is not http(s) and text that is no URL are refused with the reason
  assert.throws(() => parseHttpUrl('ftp://example.test/x'), /must start with http:\/\/ or https:\/\//);
  assert.throws(() => parseHttpUrl('localhost:99999/x'), /is not a URL/);
  assert.throws(() => parseHttpUrl('http://'), /is not a URL/);
});
