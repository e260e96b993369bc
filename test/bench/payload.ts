import { receivedBoth } from '../fixtures/mftg-payloads.js';

/** Size of the benchmark's delivery: a realistic MFTG document of about 2 KiB. */
export const PAYLOAD_TARGET_BYTES = 2048;

/**
 * A MESSAGE.RECEIVED.SUCCESS delivery (both legacy and new field names, as MFTG sends today) of an
 * AS2 message with as many attachments as make it about 2 KiB, with fresh ids when `seq` is given.
 */
export function mftgPayload(seq = 0): Buffer {
  const messageId = `<${1609934788 + seq}.${3185 + (seq % 1000)}.1616041941493@as2gateway.com>`;
  const attachments: string[] = [];
  const doc = { ...receivedBoth, messageAS2ID: messageId, messageIdentifier: messageId, attachments, receivedAt: receivedBoth.receivedAt + seq };
  for (let i = 0; JSON.stringify(doc).length < PAYLOAD_TARGET_BYTES - 80; i++) {
    attachments.push(`AS2/files/ACME-AS2/ZZGLOBEXCORP/inbox/${1732804712345 + seq}-${i}/PO_850_45000${String(12345 + i).padStart(5, '0')}.edi`);
  }
  return Buffer.from(JSON.stringify(doc));
}

/** MFTG documents a JSON body only (its documentation); the Content-Type is assumed. */
export const PAYLOAD_HEADERS: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
