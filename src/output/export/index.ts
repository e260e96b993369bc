import { curlFormat } from './curl.js';
import type { ExportFormat } from './format.js';
import { harFormat } from './har.js';
import { jsonFormat } from './json.js';

export type { ExportContext, ExportFormat } from './format.js';

/** Every export format, the default first: `--format`'s choices and its help come from this list. */
export const EXPORT_FORMATS: readonly ExportFormat[] = [jsonFormat, curlFormat, harFormat];

export const DEFAULT_EXPORT_FORMAT = EXPORT_FORMATS[0]!.name;

/** "json, curl or har". */
export const exportFormatList = (): string => {
  const names = EXPORT_FORMATS.map((format) => format.name);
  return names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]!}` : names.join('');
};

/** The format named `name` (any case, spaces trimmed), or null. */
export function exportFormatNamed(name: string): ExportFormat | null {
  const wanted = name.trim().toLowerCase();
  return EXPORT_FORMATS.find((format) => format.name === wanted) ?? null;
}
