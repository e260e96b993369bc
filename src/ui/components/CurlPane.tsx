import { Box, Text } from 'ink';
import { formatBytes } from '../../output/format.js';
import { cells, type Line } from '../segments.js';
import { ScreenLine, ScreenLines } from './ScreenLine.js';

/** What the curl view shows: the command on one line, where it was saved, and how it was copied. */
export interface CurlView {
  id: string;
  /** One line of printable ASCII (see `screenCurl`). */
  line: string;
  copyable: boolean;
  /** Size of the command. */
  bytes: number;
  /** The file the command was written to, or null (then `fileError` says why). */
  file: string | null;
  fileError: string | null;
  /** How the command was copied, or why not. */
  note: string;
}

/** Terminal rows a line of `count` cells takes when the terminal wraps it at `width`. */
export function rowsFor(count: number, width: number): number {
  return Math.max(1, Math.ceil(count / Math.max(1, width)));
}

interface CurlLayout {
  /** Lines the terminal's wrapping adds to the frame (they are taken from the top). */
  extra: number;
  /** The command fits on the screen. */
  shown: boolean;
}

/** Title, hint and a blank line; the saved-to line and the command come on top. */
const FIXED_LINES = 3;

function savedText(view: CurlView): string {
  return view.file ? `saved to ${view.file}` : `not saved: ${view.fileError ?? 'unknown error'}`;
}

/** How many rows the view's soft-wrapped lines take in `rows` rows of a terminal `width` wide. */
export function curlPaneRows(view: CurlView, width: number, rows: number): CurlLayout {
  const savedRows = rowsFor(cells(savedText(view)), width);
  const commandRows = rowsFor(view.line.length, width);
  const shown = FIXED_LINES + savedRows + commandRows <= rows;
  return { extra: savedRows - 1 + (shown ? commandRows - 1 : 0), shown };
}

/** A line printed as it is, as wide as it is: the terminal wraps it, so a copy from the screen is the line. */
function SoftLine({ text, width }: { text: string; width: number }) {
  return (
    <Box width={Math.max(width, cells(text))} flexShrink={0}>
      <Text wrap="truncate-end">{text}</Text>
    </Box>
  );
}

/**
 * The curl view: `extra` blank lines (they scroll away: see App), the title, the file, a hint, and the
 * command itself as one line without padding, or where to find it when it does not fit.
 */
export function CurlPane({ view, width, rows, extra }: { view: CurlView; width: number; rows: number; extra: number }) {
  const { shown } = curlPaneRows(view, width, rows);
  const title: Line = [
    { text: `curl command for ${view.id}`, bold: true },
    { text: `  ${formatBytes(view.bytes)} · ${view.note}`, dim: true },
  ];
  let hint: Line;
  // The path is on the line above, whole: the hint stays short enough for 80 columns.
  if (!shown)
    hint = [{ text: view.file ? 'Too long for this screen: run the file above with sh.' : `Too long for this screen: mftg-hooks events export ${view.id} --format curl | sh`, color: 'yellow' }];
  else if (!view.copyable) hint = [{ text: 'It holds a character a screen cannot show as it is (shown escaped): run the file instead.', color: 'yellow' }];
  else hint = [{ text: 'One line: the terminal wraps it. Select it all to copy it; Esc goes back.', dim: true }];
  const used = FIXED_LINES + 1 + (shown ? 1 : 0);
  return (
    <>
      <ScreenLines lines={Array.from({ length: extra }, () => [])} />
      <ScreenLine line={title} />
      <SoftLine text={savedText(view)} width={width} />
      <ScreenLine line={hint} />
      <ScreenLine line={[]} />
      {shown ? <SoftLine text={view.line} width={width} /> : null}
      <ScreenLines lines={[]} height={Math.max(0, rows - extra - used)} />
    </>
  );
}
