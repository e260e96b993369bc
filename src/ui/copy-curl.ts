import { requestUrl } from '../core/export.js';
import { toCurl } from '../output/export/curl.js';
import { targetFor } from '../core/delivery/targets.js';
import type { FaceView } from '../live/face.js';
import type { LiveSnapshot, NoticeTone } from '../live/model.js';
import { formatBytes } from '../output/format.js';
import type { CopyResult } from './clipboard.js';
import type { CurlView } from './components/CurlPane.js';
import { screenCurl, writeCurlFile } from './curl-command.js';

export interface CurlCopy {
  notice: { text: string; tone: NoticeTone };
  /** The curl view to open: the copy may not have arrived (OSC 52) or did not happen. */
  show: CurlView | null;
}

/**
 * The `c` key: the event as a curl command to where the listener forwards it (else the capture
 * URL), saved beside the store and put on the clipboard.
 */
export async function copyAsCurl(
  view: Pick<FaceView, 'getEvent' | 'getBody'>,
  snapshot: Pick<LiveSnapshot, 'targets' | 'localUrl' | 'store'>,
  id: string,
  copy: (text: string) => Promise<CopyResult>,
): Promise<CurlCopy> {
  const [event, body] = await Promise.all([view.getEvent(id), view.getBody(id)]);
  const { targets, localUrl, store: storeDir } = snapshot;
  const base = targetFor(targets, event.mftg?.eventType);
  const url = requestUrl(event, base ?? localUrl ?? '');
  const curl = toCurl(event, body, url);
  const to = base ? '' : ' (to the capture URL: no forward target)';
  let file: string | null = null;
  let fileError: string | null = storeDir ? null : 'no store directory';
  if (storeDir) {
    try {
      file = await writeCurlFile(storeDir, event.id, curl);
    } catch (error) {
      fileError = (error as Error).message;
    }
  }
  const result = await copy(curl);
  const saved = file ? `; saved to ${file}` : '';
  const shown = (note: string): CurlView => ({ id, ...screenCurl(event, body, url), bytes: Buffer.byteLength(curl), file, fileError, note });
  switch (result.method) {
    case 'osc52':
      return { notice: { text: `curl command sent with OSC 52${to}; if it did not arrive, copy it from the screen`, tone: 'ok' }, show: shown('sent to the terminal clipboard (OSC 52)') };
    case 'none':
      return { notice: { text: `curl command not copied: ${result.reason}${to}`, tone: 'warn' }, show: shown(`not copied: ${result.reason}`) };
    default:
      return { notice: { text: `curl command copied with ${result.method} (${formatBytes(Buffer.byteLength(curl))})${to}${saved}`, tone: 'ok' }, show: null };
  }
}
