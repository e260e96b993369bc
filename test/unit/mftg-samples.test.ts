import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mftgDetails, summarize } from '../../src/core/mftg.js';
import { buildSample, MAX_SAMPLE_ATTACHMENTS, resolveSampleType, SAMPLE_DESCRIPTIONS, type SampleVariant } from '../../src/core/mftg-samples.js';

// The field table of MFTG's documentation, written out here independently of the code under test.
type FieldType = 'string' | 'string[]' | 'integer';
const COMMON: Record<string, FieldType> = {
  to: 'string',
  messageSubject: 'string',
  partnerName: 'string',
  stationName: 'string',
  attachments: 'string[]',
  bucketName: 'string',
  tenantName: 'string',
  tenantEmail: 'string',
  tenantId: 'integer',
  eventType: 'string',
};
const RENAMES = { messageAS2ID: 'messageIdentifier', partnerAS2ID: 'partnerIdentifier', stationAS2ID: 'stationIdentifier' } as const;
const SPECIFIC: Record<string, Record<string, FieldType>> = {
  'MESSAGE.RECEIVED.SUCCESS': { receivedAt: 'integer' },
  'MESSAGE.SEND.SUCCESS': { sentAt: 'integer' },
  'MESSAGE.SEND.FAILED': { failureReason: 'string', failures: 'integer', lastAttemptTime: 'integer', subject: 'string' },
};
const ALL_SPECIFIC = new Set(Object.values(SPECIFIC).flatMap((fields) => Object.keys(fields)));
/** Observed order of a real MESSAGE.SEND.FAILED delivery (before the renames). */
const OBSERVED_FAILED_ORDER = [
  'to',
  'messageAS2ID',
  'messageSubject',
  'partnerAS2ID',
  'partnerName',
  'stationAS2ID',
  'stationName',
  'failureReason',
  'failures',
  'lastAttemptTime',
  'attachments',
  'subject',
  'bucketName',
  'tenantName',
  'tenantId',
  'tenantEmail',
  'eventType',
];
const TYPES = ['MESSAGE.RECEIVED.SUCCESS', 'MESSAGE.SEND.SUCCESS', 'MESSAGE.SEND.FAILED'] as const;
const VARIANTS: SampleVariant[] = ['both', 'legacy', 'modern'];

function hasType(value: unknown, type: FieldType): boolean {
  if (type === 'string') return typeof value === 'string' && value.length > 0;
  if (type === 'integer') return Number.isSafeInteger(value);
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

const AS2_ID = /^[\x21-\x7e]{1,128}$/;

describe('every sample type and variant matches the documented MFTG field table', () => {
  for (const eventType of TYPES) {
    for (const variant of VARIANTS) {
      for (const attachments of [0, 1, 3]) {
        test(`${eventType} ${variant} with ${attachments} attachment(s)`, () => {
          // Given a pinned clock
          const now = Date.UTC(2025, 4, 6, 7, 8, 9, 123);
          // When a sample is built
          const doc = buildSample(eventType, { variant, attachments, now });
          // Then every common field is there with its type
          for (const [field, type] of Object.entries(COMMON)) assert.ok(hasType(doc[field], type), `${field} is a ${type}: ${JSON.stringify(doc[field])}`);
          // And the type's own fields, and no other type's
          for (const [field, type] of Object.entries(SPECIFIC[eventType]!)) assert.ok(hasType(doc[field], type), `${field} is a ${type}`);
          for (const field of ALL_SPECIFIC) if (!(field in SPECIFIC[eventType]!)) assert.equal(field in doc, false, `${field} only belongs to another type`);
          // And renamed ids present or absent as asked, with the same values when both are sent
          for (const [legacy, modern] of Object.entries(RENAMES)) {
            assert.equal(legacy in doc, variant !== 'modern', `${legacy} present only unless --modern`);
            assert.equal(modern in doc, variant !== 'legacy', `${modern} present only unless --legacy`);
            if (variant === 'both') assert.equal(doc[legacy], doc[modern]);
            const value = doc[legacy] ?? doc[modern];
            assert.ok(typeof value === 'string', `${legacy}/${modern} is a string`);
          }
          // And nothing MFTG's documentation does not describe
          const known = new Set([...Object.keys(COMMON), ...Object.keys(RENAMES), ...Object.values(RENAMES), ...ALL_SPECIFIC]);
          for (const field of Object.keys(doc)) assert.ok(known.has(field), `${field} is a documented field`);
          assert.equal(doc.eventType, eventType);
          assert.equal(Object.keys(doc).at(-1), 'eventType', 'eventType comes last, as observed');
          // And values shaped like MFTG's
          assert.ok(Number(doc.tenantId) > 2 ** 32 && Number(doc.tenantId) < 2 ** 53 && String(doc.tenantId).length === 15, 'tenantId: 15 digits, beyond 32 bits');
          assert.equal(doc.bucketName, `mftg-${String(doc.tenantName)}`);
          assert.equal(doc.to, doc.tenantEmail);
          for (const field of ['receivedAt', 'sentAt', 'lastAttemptTime']) if (field in doc) assert.equal(doc[field], now, `${field} is epoch ms`);
          if (eventType === 'MESSAGE.SEND.FAILED') {
            assert.equal(doc.subject, doc.messageSubject, 'subject duplicates messageSubject');
            assert.ok(Number(doc.failures) >= 1);
          }
          const messageId = String(doc.messageIdentifier ?? doc.messageAS2ID);
          const station = String(doc.stationIdentifier ?? doc.stationAS2ID);
          const partner = String(doc.partnerIdentifier ?? doc.partnerAS2ID);
          assert.match(station, AS2_ID);
          assert.match(partner, AS2_ID);
          const keys = doc.attachments as string[];
          assert.equal(keys.length, attachments);
          assert.equal(new Set(keys).size, keys.length, 'attachment keys are distinct');
          if (eventType === 'MESSAGE.RECEIVED.SUCCESS') {
            assert.match(messageId, /^<[^<>\s@]+@[^<>\s@]+>$/, 'a partner-generated RFC 2822 style id');
            for (const key of keys) assert.ok(key.startsWith(`AS2/files/${station}/${partner}/inbox/${now}-`) && /\/inbox\/\d+-\d+\/[^/]+$/.test(key), key);
          } else {
            const match = /^<(\d+)(\.as2)?@mftgateway\.com>$/.exec(messageId);
            assert.ok(match, `MFTG's outgoing id format: ${messageId}`);
            for (const key of keys) assert.match(key, new RegExp(`^AS2/files/${station}/${partner}/outbox/${match[1]}/[^/]+$`));
          }
          // And the summary the UI shows reads it (new names first, legacy second)
          const summary = summarize(Buffer.from(JSON.stringify(doc)));
          assert.equal(summary?.eventType, eventType);
          assert.equal(summary?.messageId, messageId);
          assert.equal(summary?.partner, partner);
          assert.equal(summary?.station, station);
          assert.equal('attachments' in (summary ?? {}), false, 'attachments stay out of the stored summary');
          assert.deepEqual(mftgDetails(Buffer.from(JSON.stringify(doc)))?.attachments, keys);
        });
      }
    }
  }
});

test('a legacy MESSAGE.SEND.FAILED sample has exactly the observed field order', () => {
  // When the pre-3.1.1 variant is built
  const doc = buildSample('MESSAGE.SEND.FAILED', { variant: 'legacy' });
  // Then its fields come in the order of the real delivery MFTG documents
  assert.deepEqual(Object.keys(doc), OBSERVED_FAILED_ORDER);
});

test('new field names sit next to (both) or in place of (modern) the legacy ones', () => {
  const both = Object.keys(buildSample('MESSAGE.SEND.FAILED'));
  const modern = Object.keys(buildSample('MESSAGE.SEND.FAILED', { variant: 'modern' }));
  for (const [legacy, renamed] of Object.entries(RENAMES)) {
    assert.equal(both.indexOf(renamed), both.indexOf(legacy) + 1);
    assert.equal(modern.indexOf(renamed), OBSERVED_FAILED_ORDER.indexOf(legacy));
  }
});

test('every sample has fresh message ids', () => {
  for (const eventType of TYPES) {
    const ids = new Set(Array.from({ length: 20 }, () => String(buildSample(eventType).messageIdentifier)));
    assert.equal(ids.size, 20, eventType);
  }
});

test('the time fields default to now', () => {
  const before = Date.now();
  const doc = buildSample('MESSAGE.RECEIVED.SUCCESS');
  assert.ok(Number(doc.receivedAt) >= before && Number(doc.receivedAt) <= Date.now());
});

test('attachment counts outside 0..MAX are refused', () => {
  assert.throws(() => buildSample('MESSAGE.SEND.SUCCESS', { attachments: MAX_SAMPLE_ATTACHMENTS + 1 }), RangeError);
  assert.throws(() => buildSample('MESSAGE.SEND.SUCCESS', { attachments: -1 }), RangeError);
  assert.equal((buildSample('MESSAGE.SEND.SUCCESS', { attachments: MAX_SAMPLE_ATTACHMENTS }).attachments as string[]).length, MAX_SAMPLE_ATTACHMENTS);
});

test('event types resolve from their full name, any case, or a short alias', () => {
  assert.equal(resolveSampleType('MESSAGE.SEND.FAILED'), 'MESSAGE.SEND.FAILED');
  assert.equal(resolveSampleType('message.received.success'), 'MESSAGE.RECEIVED.SUCCESS');
  assert.equal(resolveSampleType('sent'), 'MESSAGE.SEND.SUCCESS');
  assert.equal(resolveSampleType('failed'), 'MESSAGE.SEND.FAILED');
  assert.equal(resolveSampleType('MESSAGE.SEND.RETRY'), null);
  assert.deepEqual(
    SAMPLE_DESCRIPTIONS.map((d) => d.eventType),
    [...TYPES],
  );
});
