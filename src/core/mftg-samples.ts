import { randomInt } from 'node:crypto';
import { resolveEventType, type MftgEventType } from './mftg.js';

/**
 * Realistic MFTG webhook payloads for `trigger`, built from what MFTG was observed to send: the observed field
 * order, fresh AS2 message ids in MFTG's formats, epoch-millisecond times, attachment S3 keys in
 * MFTG's layout. Station, partner and tenant values are invented but shaped like real ones.
 */

/** Which field names to send: pre-3.1.1 (`*AS2ID`), post-deprecation (`*Identifier`), or both (today). */
export type SampleVariant = 'both' | 'legacy' | 'modern';

/** Most attachments a sample may carry (`--attachments`). */
export const MAX_SAMPLE_ATTACHMENTS = 20;

export interface SampleOptions {
  /** Default `both`, what MFTG sends during the deprecation period. */
  variant?: SampleVariant;
  /** Number of attachment keys, 0..MAX_SAMPLE_ATTACHMENTS (default 1). */
  attachments?: number;
  /** Epoch ms used for every time field (default now). */
  now?: number;
  /** Random integer in [min, max) (default crypto's randomInt); tests may pin it. */
  random?: (min: number, max: number) => number;
}

/** What `trigger --list` shows for each event type. */
export interface SampleDescription {
  eventType: MftgEventType;
  /** Short name accepted by `trigger` besides the full eventType. */
  alias: string;
  when: string;
  /** Fields specific to this type, beyond the common ones. */
  specificFields: string[];
}

export const SAMPLE_DESCRIPTIONS: readonly SampleDescription[] = [
  {
    eventType: 'MESSAGE.RECEIVED.SUCCESS',
    alias: 'received',
    when: 'one of your stations received an AS2 message from a partner',
    specificFields: ['receivedAt'],
  },
  {
    eventType: 'MESSAGE.SEND.SUCCESS',
    alias: 'sent',
    when: 'an outgoing AS2 message was delivered to a partner',
    specificFields: ['sentAt'],
  },
  {
    eventType: 'MESSAGE.SEND.FAILED',
    alias: 'failed',
    when: 'an outgoing AS2 message could not be delivered',
    specificFields: ['failureReason', 'failures', 'lastAttemptTime', 'subject'],
  },
];

/**
 * `MESSAGE.SEND.FAILED`, `message.send.failed`, the alias `failed` or any unique part (`fail`) →
 * the eventType; null if unknown or ambiguous (see `resolveEventType` to tell which).
 */
export function resolveSampleType(name: string): MftgEventType | null {
  const match = resolveEventType(name);
  return match && 'type' in match ? match.type : null;
}

interface Party {
  as2Id: string;
  name: string;
  /** Where the partner's AS2 software runs: the right-hand side of the ids it generates. */
  host: string;
}

/** Your station: one per tenant is the common case, so every sample uses the same one. */
const STATION: Party = { as2Id: 'ACME-AS2', name: 'Acme Corp EDI', host: 'mftgateway.com' };
const TENANT = { name: 'acmecorp', email: 'edi-team@acmecorp.example', id: 708289069406346 };

const PARTNERS: readonly Party[] = [
  { as2Id: 'ZZGLOBEXCORP', name: 'Globex Corporation', host: 'as2.globex.example' },
  { as2Id: '081466849', name: 'Initech Supply (DUNS)', host: 'edi.initech.example' },
  { as2Id: 'UMBRELLA_AS2', name: 'Umbrella Logistics', host: 'as2gateway.com' },
  { as2Id: 'TEST_CON', name: 'Test Connection', host: 'as2.testcon.example' },
];

/** Documents a trading partner exchanges, with MFTG-style file names. */
const DOCUMENTS: ReadonlyArray<{ subject: (n: string) => string; file: (n: string) => string }> = [
  { subject: (n) => `Purchase Order ${n}`, file: (n) => `PO_850_${n}.edi` },
  { subject: (n) => `Ship Notice ${n}`, file: (n) => `ASN_856_${n}.x12` },
  { subject: (n) => `Invoice ${n}`, file: (n) => `INV_810_${n}.edi` },
  { subject: (n) => `ORDERS ${n}`, file: (n) => `ORDERS_D96A_PO${n}.edi` },
];

const FAILURE_REASONS = ['Received HTTP status code of 422', 'SSL Handshake Exception', 'Received HTTP status code of 503', 'Connection timed out'];

const defaultRandom = (min: number, max: number): number => randomInt(min, max);

function digits(random: (min: number, max: number) => number, count: number): string {
  let out = String(random(1, 10));
  while (out.length < count) out += String(random(0, 10));
  return out;
}

/**
 * A Message-ID as MFTG generates it for outgoing messages: `<digits@mftgateway.com>` or
 * `<digits.as2@mftgateway.com>`; the digits also name the outbox folder of the attachments.
 */
function outgoingMessageId(random: (min: number, max: number) => number): { id: string; numeric: string } {
  const numeric = digits(random, 15);
  return { id: random(0, 2) === 0 ? `<${numeric}.as2@mftgateway.com>` : `<${numeric}@mftgateway.com>`, numeric };
}

/** A Message-ID as a partner's AS2 software makes one (RFC 2822 style; MFTG passes it through). */
function incomingMessageId(random: (min: number, max: number) => number, partner: Party, now: number): string {
  if (random(0, 2) === 0) return `<${Math.floor(now / 1000)}.${random(1000, 10000)}.${now}@${partner.host}>`;
  const stamp = new Date(now).toISOString().replace(/\D/g, '').slice(0, 14);
  return `<OPENAS2-${stamp}-${random(1000, 10000)}@${partner.as2Id}_${STATION.as2Id}>`;
}

function attachmentNames(random: (min: number, max: number) => number, count: number, documentNumber: string, document: (typeof DOCUMENTS)[number]): string[] {
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    if (i === 0) names.push(document.file(documentNumber));
    // Further attachments: more documents, or the names MFTG gives unnamed parts.
    else if (random(0, 3) === 0) names.push(i === 1 ? 'Attachment.raw' : `Attachment${i - 1}.raw`);
    else names.push(DOCUMENTS[random(0, DOCUMENTS.length)]!.file(digits(random, 10)));
  }
  // Keys must be distinct within one message.
  const seen = new Map<string, number>();
  return names.map((name) => {
    const n = seen.get(name) ?? 0;
    seen.set(name, n + 1);
    return n === 0 ? name : name.replace(/(\.[^.]+)?$/, (ext) => `_${n}${ext}`);
  });
}

/** Puts the legacy and/or new name of a renamed field, legacy first (new-only keeps the legacy slot). */
function renamed(doc: Record<string, unknown>, variant: SampleVariant, legacy: string, modern: string, value: unknown): void {
  if (variant !== 'modern') doc[legacy] = value;
  if (variant !== 'legacy') doc[modern] = value;
}

/**
 * A payload for `eventType`, field order as MFTG was observed to send it: `to`, message
 * id, subject, partner, station, the type's own fields, `attachments`, (`subject` for failures),
 * bucket, tenant, `eventType` last. With both name generations the new name follows the legacy one
 * (an inference: only a pre-rename payload was observed).
 */
export function buildSample(eventType: MftgEventType, options: SampleOptions = {}): Record<string, unknown> {
  const variant = options.variant ?? 'both';
  const random = options.random ?? defaultRandom;
  const now = options.now ?? Date.now();
  const count = options.attachments ?? 1;
  if (!Number.isInteger(count) || count < 0 || count > MAX_SAMPLE_ATTACHMENTS) throw new RangeError(`attachments must be 0..${MAX_SAMPLE_ATTACHMENTS}`);

  const partner = PARTNERS[random(0, PARTNERS.length)]!;
  const document = DOCUMENTS[random(0, DOCUMENTS.length)]!;
  const documentNumber = digits(random, 10);
  const subject = document.subject(documentNumber);
  const received = eventType === 'MESSAGE.RECEIVED.SUCCESS';
  const names = attachmentNames(random, count, documentNumber, document);

  let messageId: string;
  let attachments: string[];
  if (received) {
    messageId = incomingMessageId(random, partner, now);
    // One inbox folder per message: `<epochMs>-<n>` (MFTG's inbox layout).
    const folder = `${now}-${random(0, 1000)}`;
    attachments = names.map((name) => `AS2/files/${STATION.as2Id}/${partner.as2Id}/inbox/${folder}/${name}`);
  } else {
    const outgoing = outgoingMessageId(random);
    messageId = outgoing.id;
    // The outbox folder is the numeric part of the Message-ID, as in the observed payload.
    attachments = names.map((name) => `AS2/files/${STATION.as2Id}/${partner.as2Id}/outbox/${outgoing.numeric}/${name}`);
  }

  const doc: Record<string, unknown> = {};
  doc.to = TENANT.email;
  renamed(doc, variant, 'messageAS2ID', 'messageIdentifier', messageId);
  doc.messageSubject = subject;
  renamed(doc, variant, 'partnerAS2ID', 'partnerIdentifier', partner.as2Id);
  doc.partnerName = partner.name;
  renamed(doc, variant, 'stationAS2ID', 'stationIdentifier', STATION.as2Id);
  doc.stationName = STATION.name;
  switch (eventType) {
    case 'MESSAGE.RECEIVED.SUCCESS':
      doc.receivedAt = now;
      break;
    case 'MESSAGE.SEND.SUCCESS':
      doc.sentAt = now;
      break;
    case 'MESSAGE.SEND.FAILED':
      doc.failureReason = FAILURE_REASONS[random(0, FAILURE_REASONS.length)];
      doc.failures = random(1, 6);
      doc.lastAttemptTime = now;
      break;
  }
  doc.attachments = attachments;
  if (eventType === 'MESSAGE.SEND.FAILED') doc.subject = subject;
  doc.bucketName = `mftg-${TENANT.name}`;
  doc.tenantName = TENANT.name;
  doc.tenantId = TENANT.id;
  doc.tenantEmail = TENANT.email;
  doc.eventType = eventType;
  return doc;
}
