import { Box, useInput, useStdin, useStdout, type Key } from 'ink';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { requestUrl, toCurl } from '../core/export.js';
import { targetFor } from '../core/forwarder.js';
import type { PendingDelivery } from '../core/forwarder.js';
import { isSuccess } from '../core/types.js';
import { formatBytes, formatDuration, formatOutcome } from '../output/format.js';
import { copyText, type CopyResult } from './clipboard.js';
import { EventList } from './components/EventList.js';
import { Header } from './components/Header.js';
import { HelpBar } from './components/HelpBar.js';
import { ScreenLine, ThemeContext } from './components/ScreenLine.js';
import { TextPane } from './components/TextPane.js';
import { detailDoc, textDoc, type TextDoc } from './detail-lines.js';
import { helpDoc } from './help.js';
import { actionFor } from './keys.js';
import { headerLines, statusLine } from './layout.js';
import { filterRows, windowFor } from './list-view.js';
import { lowerBound, type EventRow, type LiveModel, type LiveSnapshot, type Notice } from './model.js';
import { lineWidth, wrapLine, type Line } from './segments.js';
import { themeFor, type Theme } from './theme.js';
import { INITIAL_UI, reduceUi, selectedRowId, type UiContext, type UiState } from './ui-state.js';
import { useLiveSnapshot } from './use-live-snapshot.js';
import { useTerminalSize } from './use-terminal-size.js';

/** How long a notice (replay result, copy result, warning) stays in the status line. */
export const NOTICE_MS = 8_000;
/** The curl view shows at most this much of a command (a 10 MiB body makes a 10 MiB command). */
export const CURL_VIEW_MAX_CHARS = 64 * 1024;

export type CopyFunction = (text: string, writeToTerminal: ((data: string) => void) | null) => Promise<CopyResult>;

export interface AppProps {
  model: LiveModel;
  /** Called once when the user quits (q, Ctrl+C): the listener stops, then unmounts the UI. */
  onQuit: () => void;
  theme?: Theme;
  /** Puts text on the clipboard (tests replace it). */
  copy?: CopyFunction;
}

const defaultCopy: CopyFunction = (text, writeToTerminal) => copyText(text, { writeToTerminal });

interface WrappedDoc {
  lines: Line[];
  sections: number[];
}

function wrapDoc(doc: TextDoc, width: number, indent: number): WrappedDoc {
  const lines: Line[] = [];
  const sections: number[] = [];
  const starts = new Set(doc.sections);
  doc.lines.forEach((line, index) => {
    if (starts.has(index)) {
      sections.push(lines.length);
      // A section title runs across the screen: ── Attempts (2) ────────
      const rule = width - lineWidth(line);
      if (rule > 0) line = [...line, { text: '─'.repeat(rule), dim: true }];
    }
    lines.push(...wrapLine(line, width, indent));
  });
  return { lines, sections };
}

function findRow(rows: readonly EventRow[], id: string): EventRow | null {
  const at = lowerBound(rows, id);
  return rows[at]?.id === id ? rows[at]! : null;
}

function pendingKey(pending: PendingDelivery | null | undefined): string {
  if (!pending) return '';
  return pending.state === 'retry-scheduled' ? `r${pending.retry}` : 'w';
}

/** Loads the detail of one event from the store, again whenever its attempts change. */
function useEventDetail(model: LiveModel, id: string | null, row: EventRow | null): { doc: TextDoc | null; error: string | null } {
  const [state, setState] = useState<{ id: string | null; doc: TextDoc | null; error: string | null }>({ id: null, doc: null, error: null });
  const pendingRef = useRef<PendingDelivery | null>(null);
  pendingRef.current = row?.pending ?? null;
  const key = id === null ? null : `${id}|${row?.attempts ?? ''}|${row?.last?.id ?? ''}|${pendingKey(row?.pending)}`;
  useEffect(() => {
    if (id === null) return;
    let cancelled = false;
    void (async () => {
      const store = model.session.eventStore;
      const { event, body } = await store.getWithBody(id);
      const responses = await store.responseBodies(id);
      if (!cancelled) setState({ id, doc: detailDoc(event, body, responses, pendingRef.current), error: null });
    })().catch((error: unknown) => {
      if (!cancelled) setState({ id, doc: null, error: (error as Error).message });
    });
    return () => {
      cancelled = true;
    };
  }, [key]);
  return state.id === id ? state : { doc: null, error: null };
}

function noticeLine(notice: Notice): Line {
  const color = notice.tone === 'ok' ? 'green' : notice.tone === 'fail' ? 'red' : notice.tone === 'warn' ? 'yellow' : undefined;
  return [{ text: notice.text, ...(color ? { color } : {}) }];
}

function emptyListLines(snapshot: LiveSnapshot, query: string): Line[] {
  if (query) return [[], [{ text: `  No event matches /${query}`, bold: true }, { text: '  (Esc clears the filter)', dim: true }]];
  if (snapshot.loading) return [[], [{ text: '  Reading stored events…', dim: true }]];
  const url = snapshot.publicCaptureUrl ?? snapshot.localUrl;
  return [
    [],
    [{ text: '  No events yet.', bold: true }, { text: ' Waiting for deliveries to the capture URL.', dim: true }],
    [],
    [{ text: '  Try one: ', dim: true }, { text: 'mftg-hooks trigger MESSAGE.RECEIVED.SUCCESS' }],
    ...(url ? [[{ text: '       or: ', dim: true }, { text: `curl -d '{"eventType":"TEST"}' ${url}` }]] : []),
  ];
}

function curlDoc(id: string, curl: string, note: string): TextDoc {
  const shown = curl.length > CURL_VIEW_MAX_CHARS ? curl.slice(0, CURL_VIEW_MAX_CHARS) : curl;
  const lines: Line[] = [[{ text: `curl command for ${id}`, bold: true }, { text: `  ${note}`, dim: true }], []];
  for (const text of shown.split('\n')) lines.push([{ text }]);
  if (shown.length < curl.length) {
    lines.push([], [{ text: `[… ${formatBytes(curl.length - shown.length)} more: mftg-hooks events export ${id} --format curl]`, dim: true }]);
  }
  return textDoc(lines);
}

const PLAIN_KEY: Key = {
  upArrow: false,
  downArrow: false,
  leftArrow: false,
  rightArrow: false,
  pageDown: false,
  pageUp: false,
  home: false,
  end: false,
  return: false,
  escape: false,
  ctrl: false,
  shift: false,
  tab: false,
  backspace: false,
  delete: false,
  meta: false,
  super: false,
  hyper: false,
  capsLock: false,
  numLock: false,
};

/** A single character as Ink would report it on its own. */
function keyOfChar(char: string): [string, Key] {
  const code = char.charCodeAt(0);
  if (char === '\r' || char === '\n') return ['', { ...PLAIN_KEY, return: true }];
  if (char === '\t') return ['', { ...PLAIN_KEY, tab: true }];
  if (char === '\u007f' || char === '\b') return ['', { ...PLAIN_KEY, backspace: true }];
  if (code >= 1 && code <= 26) return [String.fromCharCode(code + 96), { ...PLAIN_KEY, ctrl: true }];
  return [char, { ...PLAIN_KEY, shift: /[A-Z]/.test(char) }];
}

/** The live inspector: header, event list or detail/help/curl view, status line, help bar. */
export function App({ model, onQuit, theme: givenTheme, copy = defaultCopy }: AppProps) {
  const snapshot = useLiveSnapshot(model);
  const { columns, rows: terminalRows } = useTerminalSize();
  const { isRawModeSupported } = useStdin();
  const { stdout } = useStdout();
  const theme = useMemo(() => givenTheme ?? themeFor(), [givenTheme]);
  const [ui, setUi] = useState<UiState>(INITIAL_UI);
  const [textView, setTextView] = useState<TextDoc | null>(null);
  const [now, setNow] = useState(() => Date.now());
  const quitting = useRef(false);

  // One line less than the terminal: a frame as tall as the terminal makes Ink clear the screen on
  // every update (flicker).
  const width = Math.max(20, columns);
  const height = Math.max(8, terminalRows - 1);

  const filtered = useMemo(() => filterRows(snapshot.rows, ui.query), [snapshot.rows, ui.query]);
  const header = headerLines(snapshot, width, now);
  const bodyHeight = Math.max(1, height - header.length - 2);
  const listHeight = Math.max(1, bodyHeight - 1);

  const detailRow = ui.detailId === null ? null : findRow(snapshot.rows, ui.detailId);
  const detail = useEventDetail(model, ui.mode === 'detail' || ui.back === 'detail' ? ui.detailId : null, detailRow);
  const help = useMemo(() => helpDoc(), []);
  const paneDoc = ui.mode === 'detail' ? detail.doc : ui.mode === 'help' ? help : ui.mode === 'text' ? textView : null;
  const wrapped = useMemo(() => (paneDoc ? wrapDoc(paneDoc, width, ui.mode === 'text' ? 0 : 4) : null), [paneDoc, width, ui.mode]);

  const context: UiContext = { rows: filtered, allRows: snapshot.rows, listHeight, paneHeight: bodyHeight, paneLines: wrapped?.lines.length ?? 0, sections: wrapped?.sections ?? [] };
  const contextRef = useRef(context);
  contextRef.current = context;
  // The ref runs ahead of React: keys that arrive before the next render see the state they made.
  const uiRef = useRef(ui);
  const update = useCallback((change: (state: UiState) => UiState): void => {
    const next = change(uiRef.current);
    if (next === uiRef.current) return;
    uiRef.current = next;
    setUi(next);
  }, []);

  // The store was cleared: nothing left to show in detail.
  useEffect(() => {
    if (snapshot.clears > 0) update((state) => ({ ...state, mode: state.mode === 'detail' ? 'list' : state.mode, detailId: null, position: { follow: true, selectedId: null, topId: null } }));
  }, [snapshot.clears]);

  // Notices expire; the reconnect countdown ticks.
  const latest = snapshot.notices[snapshot.notices.length - 1];
  useEffect(() => {
    if (!latest) return;
    const left = latest.at + NOTICE_MS - Date.now();
    if (left <= 0) return;
    const timer = setTimeout(() => setNow(Date.now()), left + 10);
    return () => clearTimeout(timer);
  }, [latest]);
  useEffect(() => {
    if (snapshot.tunnel.state !== 'reconnecting') return;
    const timer = setInterval(() => setNow(Date.now()), 1_000);
    return () => clearInterval(timer);
  }, [snapshot.tunnel.state]);

  const quit = useCallback(() => {
    if (quitting.current) return;
    quitting.current = true;
    model.notify('stopping: finishing writes and in-flight forwards, closing the tunnel…');
    onQuit();
  }, [model, onQuit]);

  const replay = useCallback(
    (id: string) => {
      const row = findRow(model.getSnapshot().rows, id);
      const base = targetFor(model.session.targets, row?.mftg?.eventType);
      if (!base) {
        model.notify(`nothing to replay to: start the listener with --forward-to <url> (or: mftg-hooks replay ${id} --to <url>)`, 'fail');
        return;
      }
      model.notify(`replaying ${id} → ${base}…`);
      model.session.replay(id).then(
        (attempt) => model.notify(`replayed ${id}: ${formatOutcome(attempt)} · ${formatDuration(attempt.durationMs)} from ${attempt.target}`, isSuccess(attempt) ? 'ok' : 'fail'),
        (error: unknown) => model.notify(`replay of ${id} failed: ${(error as Error).message}`, 'fail'),
      );
    },
    [model],
  );

  const copyCurl = useCallback(
    (id: string) => {
      void (async () => {
        const { event, body } = await model.session.eventStore.getWithBody(id);
        const base = targetFor(model.session.targets, event.mftg?.eventType);
        const url = requestUrl(event, base ?? model.session.captureUrl);
        const curl = toCurl(event, body, url);
        const to = base ? '' : ' (to the capture URL: there is no forward target)';
        const writeToTerminal = stdout.isTTY ? (data: string): void => void stdout.write(data) : null;
        const result = await copy(curl, writeToTerminal);
        const show = (note: string): void => {
          setTextView(curlDoc(id, curl, note));
          update((state) => ({ ...state, mode: 'text', back: state.mode === 'detail' ? 'detail' : state.mode === 'list' ? 'list' : state.back, overlayScroll: 0 }));
        };
        switch (result.method) {
          case 'osc52':
            model.notify(`curl command sent to the terminal clipboard (OSC 52)${to}; if your terminal ignores OSC 52, copy it from the screen`, 'ok');
            show('sent with OSC 52 · Esc goes back');
            break;
          case 'none':
            model.notify(`curl command not copied: ${result.reason}; shown instead${to}`, 'warn');
            show('not copied: shown here · Esc goes back');
            break;
          default:
            model.notify(`curl command copied with ${result.method} (${formatBytes(Buffer.byteLength(curl))})${to}`, 'ok');
        }
      })().catch((error: unknown) => model.notify(`could not copy ${id} as curl: ${(error as Error).message}`, 'fail'));
    },
    [model, copy, stdout, update],
  );

  const handleKey = (input: string, key: Key): void => {
    if ([...input].length > 1 && !key.ctrl && !key.meta) {
      // Keys typed (or pasted) faster than the terminal is read arrive as one string: one at a time.
      for (const char of input) handleKey(...keyOfChar(char));
      return;
    }
    const state = uiRef.current;
    const action = actionFor(state.mode, input, key);
    if (action === null) {
      const typed = input.replace(/[\u0000-\u001f\u007f]/g, '');
      if (state.mode === 'filter' && typed && !key.ctrl && !key.meta) update((current) => reduceUi(current, { typed }, contextRef.current));
      return;
    }
    const eventId = state.mode === 'detail' ? state.detailId : selectedRowId(state, contextRef.current);
    switch (action) {
      case 'quit':
        quit();
        return;
      case 'replay':
        if (eventId) replay(eventId);
        return;
      case 'copy':
        if (eventId) copyCurl(eventId);
        return;
      default:
        update((current) => reduceUi(current, { action }, contextRef.current));
    }
  };
  useInput(handleKey, { isActive: isRawModeSupported === true });

  // ---- the frame -------------------------------------------------------------------------------
  const freshNotice = latest && Date.now() - latest.at < NOTICE_MS ? latest : null;
  let status: Line;
  if (ui.mode === 'filter') {
    status = statusLine(
      [{ text: '/', bold: true, color: 'yellow' }, { text: ui.query }, { text: ' ', inverse: true }],
      [{ text: `${filtered.length} of ${snapshot.rows.length} match`, dim: true }],
      width,
    );
  } else if (ui.mode === 'list') {
    const view = windowFor(filtered, ui.position, listHeight);
    const right: Line = [];
    if (ui.query) right.push({ text: `/${ui.query}`, color: 'yellow' }, { text: `  ${filtered.length} of ${snapshot.rows.length}  `, dim: true });
    else right.push({ text: `${snapshot.rows.length} event${snapshot.rows.length === 1 ? '' : 's'}  `, dim: true });
    if (ui.position.follow) right.push({ text: 'FOLLOW', bold: true, color: 'green' });
    else right.push({ text: 'HELD', bold: true, color: 'yellow' }, ...(view.newer > 0 ? [{ text: ` ${view.newer} newer ↓`, color: 'yellow' as const }] : []));
    status = statusLine(freshNotice ? noticeLine(freshNotice) : [], right, width);
  } else {
    const total = wrapped?.lines.length ?? 0;
    const scroll = ui.mode === 'detail' ? ui.detailScroll : ui.overlayScroll;
    const right: Line = total > bodyHeight ? [{ text: `${scroll + 1}–${Math.min(total, scroll + bodyHeight)} of ${total}`, dim: true }] : [];
    status = statusLine(freshNotice ? noticeLine(freshNotice) : [], right, width);
  }

  let body;
  if (ui.mode === 'list' || ui.mode === 'filter') {
    body = <EventList rows={filtered} position={ui.position} height={listHeight} width={width} targets={snapshot.targets} empty={emptyListLines(snapshot, ui.query)} />;
  } else if (wrapped) {
    body = <TextPane lines={wrapped.lines} scroll={ui.mode === 'detail' ? ui.detailScroll : ui.overlayScroll} height={bodyHeight} />;
  } else {
    const message: Line = detail.error ? [{ text: `  could not read event ${ui.detailId}: ${detail.error}`, color: 'red' }] : [{ text: `  reading event ${ui.detailId}…`, dim: true }];
    body = <TextPane lines={[[], message]} scroll={0} height={bodyHeight} />;
  }

  return (
    <ThemeContext.Provider value={theme}>
      <Box flexDirection="column" width={width} height={height} overflow="hidden">
        <Header snapshot={snapshot} width={width} now={now} />
        {body}
        <ScreenLine line={status} />
        <HelpBar mode={ui.mode} width={width} />
      </Box>
    </ThemeContext.Provider>
  );
}
