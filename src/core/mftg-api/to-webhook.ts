import type { MftgEventType } from '../mftg.js';
import type { SampleVariant } from '../mftg-samples.js';
import type { As2Message, MessageType } from './types.js';

/**
 * The webhook payload MFTG would have sent for a message found through its API, mapped
 * field by field: ids, subject and attachment keys from the message, times as epoch ms,
 * field order as MFTG was observed to send it. The API has no names and no tenant fields: they are
 * taken from a template — the newest real delivery of the same station — when one is given, and
 * left out otherwise (never invented).
 */

export const EVENT_TYPE_OF: Readonly<Record<MessageType, MftgEventType>> = {
  received: 'MESSAGE.RECEIVED.SUCCESS',
  sent: 'MESSAGE.SEND.SUCCESS',
  failed: 'MESSAGE.SEND.FAILED',
};

export interface ToWebhookOptions {
  /** A real delivery of the same station (its parsed body): station name and tenant fields. */
  template?: Record<string, unknown> | null;
  /** Partner AS2 id → partner name, e.g. gathered from stored deliveries. The template's own
   *  partner name is used only when the template is about the same partner. */
  partnerNames?: ReadonlyMap<string, string>;
  /** Which field names: default the template's (a delivery with only the new names means MFTG has
   *  dropped the legacy ones), else `both`, what MFTG sends today. */
  variant?: SampleVariant;
}

/** The template's fields that describe the tenant, copied as they are (types included). */
const TENANT_FIELDS = ['bucketName', 'tenantName', 'tenantId', 'tenantEmail'] as const;

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Epoch ms from a number (ms) or an ISO-8601 string; undefined otherwise. */
function epochMs(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Date.parse(value))) return Date.parse(value);
  return undefined;
}

function variantOf(template: Record<string, unknown> | null | undefined): SampleVariant {
  if (!template) return 'both';
  const legacy = 'messageAS2ID' in template || 'stationAS2ID' in template || 'partnerAS2ID' in template;
  const modern = 'messageIdentifier' in template || 'stationIdentifier' in template || 'partnerIdentifier' in template;
  if (modern && !legacy) return 'modern';
  if (legacy && !modern) return 'legacy';
  return 'both';
}

function put(doc: Record<string, unknown>, variant: SampleVariant, legacy: string, modern: string, value: string | undefined): void {
  if (value === undefined) return;
  if (variant !== 'modern') doc[legacy] = value;
  if (variant !== 'legacy') doc[modern] = value;
}

/** Why a failed message failed: its own reason when the API gives one, else the partner's HTTP status. */
function failureReasonOf(message: As2Message): string | undefined {
  const given = text(message.failureReason) ?? text(message.errorMessage);
  if (given) return given;
  const status = message.transportStatusReceived;
  // MFTG's own wording for this case (the observed "Received HTTP status code of 422").
  if (typeof status === 'number' && (status < 200 || status >= 300) && status > 0) return `Received HTTP status code of ${status}`;
  return undefined;
}

/** Maps one API message of list `type` to the payload of its webhook. Pure. */
export function toWebhookPayload(message: As2Message, type: MessageType, options: ToWebhookOptions = {}): Record<string, unknown> {
  const template = options.template ?? null;
  const variant = options.variant ?? variantOf(template);
  const headers = message.transportHeaders ?? {};
  const sender = text(message.senderAS2Id) ?? text(headers['AS2-From']);
  const receiver = text(message.receiverAS2Id) ?? text(headers['AS2-To']);
  // Received: the partner sent it to your station. Sent and failed: your station sent it.
  const station = type === 'received' ? receiver : sender;
  const partner = type === 'received' ? sender : receiver;
  const subject = text(message.subject) ?? text(headers.Subject);
  const time = epochMs(message.timestamp);

  const templateStation = template ? (text(template.stationIdentifier) ?? text(template.stationAS2ID)) : undefined;
  const templatePartner = template ? (text(template.partnerIdentifier) ?? text(template.partnerAS2ID)) : undefined;
  const stationName = station !== undefined && templateStation === station ? text(template?.stationName) : undefined;
  const partnerName = partner === undefined ? undefined : ((templatePartner === partner ? text(template?.partnerName) : undefined) ?? options.partnerNames?.get(partner));

  const doc: Record<string, unknown> = {};
  if (template && template.to !== undefined) doc.to = template.to;
  put(doc, variant, 'messageAS2ID', 'messageIdentifier', message.as2MessageId);
  if (subject !== undefined) doc.messageSubject = subject;
  put(doc, variant, 'partnerAS2ID', 'partnerIdentifier', partner);
  if (partnerName !== undefined) doc.partnerName = partnerName;
  put(doc, variant, 'stationAS2ID', 'stationIdentifier', station);
  if (stationName !== undefined) doc.stationName = stationName;
  switch (type) {
    case 'received':
      if (time !== undefined) doc.receivedAt = time;
      break;
    case 'sent':
      if (time !== undefined) doc.sentAt = time;
      break;
    case 'failed': {
      const reason = failureReasonOf(message);
      if (reason !== undefined) doc.failureReason = reason;
      if (typeof message.failures === 'number') doc.failures = message.failures;
      const last = epochMs(message.lastAttemptTime) ?? time;
      if (last !== undefined) doc.lastAttemptTime = last;
      break;
    }
  }
  doc.attachments = Array.isArray(message.attachmentPaths) ? message.attachmentPaths.filter((key): key is string => typeof key === 'string') : [];
  if (type === 'failed' && subject !== undefined) doc.subject = subject;
  if (template) for (const field of TENANT_FIELDS) if (template[field] !== undefined) doc[field] = template[field];
  doc.eventType = EVENT_TYPE_OF[type];
  return doc;
}
