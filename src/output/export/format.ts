import type { ExportItem } from '../../core/export.js';

/** What a writer is told once, before the first entry. */
export interface ExportContext {
  /** The installed mftg-hooks version (HAR's creator). */
  version: string;
  exportedAt: Date;
}

/**
 * One export format: a streaming writer that turns entries into text one at a time, so an export of
 * the whole store never holds more than one entry's text.
 */
export interface ExportFormat {
  name: string;
  /** What it is, for `--help`. */
  description: string;
  /** Whether entries need the stored response to the event's last attempt. */
  needsResponse: boolean;
  /** The text before the first entry, of each entry (`index` from 0), and after the last (`count` entries). */
  begin(context: ExportContext): string;
  entry(item: ExportItem, index: number): string;
  end(count: number): string;
}

/** `json` indented by `by` after its first line, to nest it in an envelope written by hand. */
export const indent = (json: string, by: string): string => json.split('\n').join('\n' + by);
