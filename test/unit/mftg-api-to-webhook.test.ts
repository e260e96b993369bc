import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toWebhookPayload } from '../../src/core/mftg-api/to-webhook.js';
import type { As2Message } from '../../src/core/mftg-api/types.js';

const received: As2Message = {
  id: 48210,
  as2MessageId: '<1609934788.3185.1616041941493@as2gateway.com>',
  incoming: true,
  msgStatus: 'RECEIVED',
  mdnStatus: 'SENT',
  receiverAS2Id: 'ACME-AS2',
  senderAS2Id: 'UMBRELLA_AS2',
  subject: 'Ship Notice 000123',
  failures: 0,
  attachmentPaths: ['AS2/files/ACME-AS2/UMBRELLA_AS2/inbox/1709283300000-0/ASN_856_000123.x12', 'AS2/files/ACME-AS2/UMBRELLA_AS2/inbox/1709283300000-0/Attachment.raw'],
  transportStatusReceived: 200,
  timestamp: 1709283300000,
  apiFetched: false,
};

const failed: As2Message = {
  id: 48214,
  as2MessageId: '<720784109397786.as2@mftgateway.com>',
  incoming: false,
  msgStatus: 'FAILED',
  receiverAS2Id: 'TEST_CON',
  senderAS2Id: 'MCHP_NEW',
  subject: 'TEST',
  failures: 1,
  attachmentPaths: ['AS2/files/MCHP_NEW/TEST_CON/outbox/720784109397786/EN_856.txt'],
  transportStatusReceived: 422,
  timestamp: 1654006245123,
};

/** The real 2022 delivery MFTG documents (legacy names only), as a template for station MCHP_NEW. */
const template2022 = {
  to: 'ops@apiworx.example',
  messageAS2ID: '<720784109397700.as2@mftgateway.com>',
  messageSubject: 'TEST',
  partnerAS2ID: 'TEST_CON',
  partnerName: 'Test Connection',
  stationAS2ID: 'MCHP_NEW',
  stationName: 'MCHP New Station',
  failureReason: 'SSL Handshake Exception',
  failures: 1,
  lastAttemptTime: 1654000000000,
  attachments: ['AS2/files/MCHP_NEW/TEST_CON/outbox/720784109397700/EN_856.txt'],
  subject: 'TEST',
  bucketName: 'mftg-apiworx',
  tenantName: 'apiworx',
  tenantId: 708289069406346,
  tenantEmail: 'ops@apiworx.example',
  eventType: 'MESSAGE.SEND.FAILED',
};

test('received, no template: both name generations, receivedAt from timestamp, nothing invented', () => {
  const payload = toWebhookPayload(received, 'received');
  assert.equal(
    JSON.stringify(payload),
    JSON.stringify({
      messageAS2ID: '<1609934788.3185.1616041941493@as2gateway.com>',
      messageIdentifier: '<1609934788.3185.1616041941493@as2gateway.com>',
      messageSubject: 'Ship Notice 000123',
      partnerAS2ID: 'UMBRELLA_AS2',
      partnerIdentifier: 'UMBRELLA_AS2',
      stationAS2ID: 'ACME-AS2',
      stationIdentifier: 'ACME-AS2',
      receivedAt: 1709283300000,
      attachments: ['AS2/files/ACME-AS2/UMBRELLA_AS2/inbox/1709283300000-0/ASN_856_000123.x12', 'AS2/files/ACME-AS2/UMBRELLA_AS2/inbox/1709283300000-0/Attachment.raw'],
      eventType: 'MESSAGE.RECEIVED.SUCCESS',
    }),
  );
});

test('failed, with the 2022 delivery as template: its field order, names, tenant and naming generation', () => {
  const payload = toWebhookPayload(failed, 'failed', { template: template2022 });
  // The template has only legacy names (it predates 3.1.1): so does the result.
  assert.equal(
    JSON.stringify(payload),
    '{"to":"ops@apiworx.example","messageAS2ID":"<720784109397786.as2@mftgateway.com>","messageSubject":"TEST","partnerAS2ID":"TEST_CON","partnerName":"Test Connection","stationAS2ID":"MCHP_NEW","stationName":"MCHP New Station","failureReason":"Received HTTP status code of 422","failures":1,"lastAttemptTime":1654006245123,"attachments":["AS2/files/MCHP_NEW/TEST_CON/outbox/720784109397786/EN_856.txt"],"subject":"TEST","bucketName":"mftg-apiworx","tenantName":"apiworx","tenantId":708289069406346,"tenantEmail":"ops@apiworx.example","eventType":"MESSAGE.SEND.FAILED"}',
  );
});

test('sent: the station is the sender; a template of another partner gives no partner name, the name table does', () => {
  const sent: As2Message = {
    as2MessageId: '<516327493100432@mftgateway.com>',
    incoming: false,
    senderAS2Id: 'MCHP_NEW',
    receiverAS2Id: 'ZZGLOBEXCORP',
    subject: 'Invoice INV-99812',
    attachmentPaths: ['AS2/files/MCHP_NEW/ZZGLOBEXCORP/outbox/516327493100432/INV_810_99812.edi'],
    timestamp: '2024-03-01T12:00:00.000Z',
  };
  const modernTemplate = { ...template2022, messageIdentifier: 'x', partnerIdentifier: 'TEST_CON', stationIdentifier: 'MCHP_NEW' };

  const withoutName = toWebhookPayload(sent, 'sent', { template: modernTemplate, variant: 'modern' });
  const withName = toWebhookPayload(sent, 'sent', { template: modernTemplate, variant: 'modern', partnerNames: new Map([['ZZGLOBEXCORP', 'Globex Corporation']]) });

  assert.equal(
    JSON.stringify(withoutName),
    '{"to":"ops@apiworx.example","messageIdentifier":"<516327493100432@mftgateway.com>","messageSubject":"Invoice INV-99812","partnerIdentifier":"ZZGLOBEXCORP","stationIdentifier":"MCHP_NEW","stationName":"MCHP New Station","sentAt":1709294400000,"attachments":["AS2/files/MCHP_NEW/ZZGLOBEXCORP/outbox/516327493100432/INV_810_99812.edi"],"bucketName":"mftg-apiworx","tenantName":"apiworx","tenantId":708289069406346,"tenantEmail":"ops@apiworx.example","eventType":"MESSAGE.SEND.SUCCESS"}',
  );
  assert.equal(withName.partnerName, 'Globex Corporation');
  assert.deepEqual(Object.keys(withName).slice(0, 6), ['to', 'messageIdentifier', 'messageSubject', 'partnerIdentifier', 'partnerName', 'stationIdentifier']);
});

test('a template of another station lends the tenant fields but not its station name', () => {
  const payload = toWebhookPayload(received, 'received', { template: template2022, variant: 'both' });
  assert.equal(payload.stationName, undefined);
  assert.equal(payload.partnerName, undefined);
  assert.equal(payload.tenantId, 708289069406346);
  assert.equal(payload.stationIdentifier, 'ACME-AS2');
  assert.equal(payload.stationAS2ID, 'ACME-AS2');
});

test('sparse messages: ids and subject from the transport headers, an explicit failure reason, no attachments', () => {
  const sparse: As2Message = {
    as2MessageId: '<1@mftgateway.com>',
    transportHeaders: { 'AS2-From': 'ACME-AS2', 'AS2-To': 'ZZGLOBEXCORP', Subject: 'PO 1' },
    failureReason: 'SSL Handshake Exception',
    failures: 3,
    timestamp: 1709283300000,
    lastAttemptTime: 1709283400000,
  };
  assert.equal(
    JSON.stringify(toWebhookPayload(sparse, 'failed', { variant: 'legacy' })),
    '{"messageAS2ID":"<1@mftgateway.com>","messageSubject":"PO 1","partnerAS2ID":"ZZGLOBEXCORP","stationAS2ID":"ACME-AS2","failureReason":"SSL Handshake Exception","failures":3,"lastAttemptTime":1709283400000,"attachments":[],"subject":"PO 1","eventType":"MESSAGE.SEND.FAILED"}',
  );
});
