import { InspectView } from '../core/inspect-view.js';
import { DEFAULT_TIMEOUT_MS } from '../core/http-send.js';
import { colorsFor } from '../output/format.js';
import { startInspector } from '../web/server.js';
import { storeDirFrom } from './common.js';
import { inspectAddressFrom } from './listen.js';

/** `mftg-hooks inspect`: the web inspector on the store alone, until Ctrl+C (exit 0). */
export async function inspectCommand(options: Record<string, unknown>): Promise<number> {
  const storeDir = storeDirFrom(options);
  const address = inspectAddressFrom(options.inspect) ?? { host: '127.0.0.1', port: null };
  const view = await InspectView.open({ storeDir, timeoutMs: typeof options.timeout === 'number' ? options.timeout : DEFAULT_TIMEOUT_MS, insecure: options.insecure === true });
  try {
    const inspector = await startInspector(view, { address });
    view.inspectUrl = inspector.url;
    const colors = colorsFor(process.stdout);
    process.stdout.write(`${colors.bold('mftg-hooks inspect')}  ${colors.bold(inspector.url)}  (the web inspector on ${storeDir}; Ctrl+C to stop)\n`);
    await new Promise<void>((resolve) => {
      for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, () => resolve());
    });
    await inspector.close();
  } finally {
    await view.close();
  }
  return 0;
}
