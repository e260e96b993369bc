/**
 * Shapes of MFTG's REST API ("MFT REST API v1.0"), as MFTG documents them. Fields are optional
 * where the API may leave them out; unknown fields are kept.
 */

/** Which list a message comes from: the inbox, the outbox (sent) or the outbox's failed list. */
export type MessageType = 'received' | 'sent' | 'failed';

export const MESSAGE_TYPES: readonly MessageType[] = ['received', 'sent', 'failed'];

/** One AS2 message as `GET /message/inbox/{id}` (or `/message/outbox/{id}`) returns it. */
export interface As2Message {
  id?: number;
  /** The AS2 Message-ID with its angle brackets. */
  as2MessageId: string;
  incoming?: boolean;
  msgStatus?: string;
  mdnStatus?: string;
  receiverAS2Id?: string;
  senderAS2Id?: string;
  subject?: string;
  failures?: number;
  /** S3 keys of the files, the same layout as the webhook's `attachments`. */
  attachmentPaths?: string[];
  compressed?: boolean;
  signed?: boolean;
  encrypted?: boolean;
  mic?: string;
  micMatches?: boolean;
  /** HTTP status the partner answered (outgoing) or MFTG answered (incoming). */
  transportStatusReceived?: number;
  userAgent?: string;
  /** Epoch milliseconds, as the API sends them; an ISO-8601 string is read too. */
  timestamp?: number | string;
  apiFetched?: boolean;
  transportHeaders?: Record<string, string>;
  mdnMessage?: Record<string, unknown>;
  [field: string]: unknown;
}

/** One file of a message: its name and a pre-signed download URL (valid about 10 minutes). */
export interface AttachmentLink {
  name: string;
  url: string;
}
