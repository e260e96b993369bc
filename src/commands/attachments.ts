import { resolve } from 'node:path';
import { usageError } from '../core/errors.js';
import { MftgApiClient } from '../core/mftg-api/client.js';
import { eventMessage, saveAttachments } from '../core/reconcile/attachments.js';
import { apiOptionsFromEnv } from '../core/reconcile/settings.js';
import { EventStore } from '../core/store/store.js';
import { colorsFor, formatBytes, SAVED_STATE_TEXT } from '../output/format.js';
import { terminalSafe } from '../output/terminal-text.js';
import { storeDirFrom } from './common.js';

/** `mftg-hooks events attachments <id> [--save <dir>]`: the message's files through MFTG's API. */
export async function eventsAttachments(options: Record<string, unknown>, args: string[]): Promise<number> {
  const id = args[0];
  if (!id) throw usageError('which event? e.g. `mftg-hooks events attachments 01hq3`', 'see `mftg-hooks events list`');
  const apiOptions = apiOptionsFromEnv();
  const store = await EventStore.open(storeDirFrom(options));
  let message;
  try {
    message = await eventMessage(store, id);
  } finally {
    await store.close();
  }
  const client = new MftgApiClient(apiOptions);
  const json = options.json === true;
  const colors = colorsFor(process.stdout);
  try {
    if (typeof options.save !== 'string') {
      const links = await client.listAttachments(message.type, message.messageId);
      if (json) {
        process.stdout.write(
          JSON.stringify({
            type: 'attachments',
            eventId: message.eventId,
            messageId: message.messageId,
            box: message.type === 'received' ? 'inbox' : 'outbox',
            files: links.map((link) => ({ name: link.name, size: null })),
          }) + '\n',
        );
      } else {
        process.stdout.write(`${links.length} file${links.length === 1 ? '' : 's'} of ${terminalSafe(message.messageId)} (${message.type === 'received' ? 'inbox' : 'outbox'}):\n`);
        for (const link of links) process.stdout.write(`  ${terminalSafe(link.name)}\n`);
        if (links.length > 0) process.stdout.write(`Save them with \`mftg-hooks events attachments ${message.eventId} --save <dir>\` (sizes are known once downloaded).\n`);
      }
      return 0;
    }
    const dir = resolve(options.save);
    const files = await saveAttachments(client, message, dir, (file) => {
      if (json) return;
      const where = file.path ? `  → ${terminalSafe(file.path)}` : '';
      const size = file.size !== null ? `  ${formatBytes(file.size)}` : '';
      const state = file.error ? colors.red(`${SAVED_STATE_TEXT[file.state]}: ${file.error}`) : SAVED_STATE_TEXT[file.state];
      process.stdout.write(`  ${terminalSafe(JSON.stringify(file.name).slice(1, -1))}${size}  ${state}${where}\n`);
    });
    if (json) {
      process.stdout.write(JSON.stringify({ type: 'attachments', eventId: message.eventId, messageId: message.messageId, box: message.type === 'received' ? 'inbox' : 'outbox', dir, files }) + '\n');
    } else if (files.length === 0) {
      process.stdout.write(`MFTG lists no files for ${terminalSafe(message.messageId)}.\n`);
    }
    const bad = files.filter((file) => file.error !== null);
    if (bad.some((file) => file.state === 'expired'))
      process.stderr.write("mftg-hooks: the download links expired (MFTG's links last about 10 minutes, and fresh ones expired too): run the command again\n");
    if (bad.length > 0) process.stderr.write(`mftg-hooks: ${bad.length} of ${files.length} files not saved\n`);
    return bad.length > 0 ? 1 : 0;
  } finally {
    await client.close();
  }
}
