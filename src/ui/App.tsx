import { Box, useInput, useStdin, useStdout, type Key } from 'ink';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { targetFor } from '../core/delivery/targets.js';
import { isSuccess } from '../core/types.js';
import type { FaceView } from '../live/face.js';
import { formatDuration, formatOutcome } from '../output/format.js';
import { attachmentsDirOf, attachmentsLines, attachmentsNotice, listAttachments, saveEventAttachments, type AttachmentsState } from './attachments.js';
import { copyText, type CopyResult } from './clipboard.js';
import { withSection } from './detail-lines.js';
import { CurlPane, curlPaneRows, type CurlView } from './components/CurlPane.js';
import { EventList } from './components/EventList.js';
import { Header } from './components/Header.js';
import { HelpBar } from './components/HelpBar.js';
import { ScreenLines, ThemeContext } from './components/ScreenLine.js';
import { TextPane } from './components/TextPane.js';
import { helpDoc } from './help.js';
import { actionFor } from './keys.js';
import { emptyListLines, findRow, finishingLine, keyOfChar, NOTICE_MS, paneStatusLines, statusFor, wrapDoc, type Finishing } from './frame-parts.js';
import { headerLines } from './layout.js';
import { filterRows, windowFor } from './list-view.js';
import type { LiveModel } from '../live/model.js';
import { copyAsCurl } from './copy-curl.js';
import type { Line } from './segments.js';
import { themeFor, type Theme } from './theme.js';
import { INITIAL_UI, reduceUi, selectedRowId, type UiContext, type UiState } from './ui-state.js';
import { useEventDetail } from './use-event-detail.js';
import { useLiveSnapshot } from './use-live-snapshot.js';
import { useTerminalSize } from './use-terminal-size.js';

export { NOTICE_MS } from './frame-parts.js';

export type CopyFunction = (text: string, writeToTerminal: ((data: string) => void) | null) => Promise<CopyResult>;

/** What the UI asks of the session beyond the view-model: detail reads and intents. */
export type UiView = Pick<FaceView, 'subscribe' | 'snapshot' | 'getEvent' | 'getBody' | 'getResponseBody' | 'replay' | 'retryTunnel' | 'listAttachments' | 'saveAttachments'>;

export interface AppProps {
  model: LiveModel;
  view: UiView;
  /** Called once when the user quits (q, Ctrl+C): the listener stops, then unmounts the UI. */
  onQuit: () => void;
  /** Called on Ctrl+C while the listener is already stopping: quit now, without waiting for forwards. */
  onQuitNow?: () => void;
  theme?: Theme;
  /** Puts text on the clipboard (tests replace it). */
  copy?: CopyFunction;
  /** The directory `./mftg-attachments/` is in. */
  cwd?: string;
}

const defaultCopy: CopyFunction = (text, writeToTerminal) => copyText(text, { writeToTerminal });

/** The live inspector: header, event list or detail/help/curl view, status line, help bar. */
export function App({ model, view, onQuit, onQuitNow, theme: givenTheme, copy = defaultCopy, cwd = process.cwd() }: AppProps) {
  const snapshot = useLiveSnapshot(model);
  const { columns, rows: terminalRows } = useTerminalSize();
  const { isRawModeSupported } = useStdin();
  const { stdout } = useStdout();
  const theme = useMemo(() => givenTheme ?? themeFor(), [givenTheme]);
  const [ui, setUi] = useState<UiState>(INITIAL_UI);
  const [curlView, setCurlView] = useState<CurlView | null>(null);
  // Timers bump this to draw again; countdowns read the clock when drawn.
  const [, setNow] = useState(() => Date.now());
  const now = Date.now();
  const quitting = useRef(false);
  /** q was pressed once while events wait for the handler: the next q quits. */
  const quitArmed = useRef(false);
  /** The listener is stopping with attempts still on the wire. */
  const [finishing, setFinishing] = useState<Finishing | null>(null);
  useEffect(
    () =>
      view.subscribe((element) => {
        if (element.type !== 'delivery') return;
        if (element.phase === 'finishing') setFinishing({ inFlight: element.inFlight, deadlineAt: element.deadlineAt });
        else if (element.phase === 'stopped') setFinishing(null);
      }),
    [view],
  );

  // One line less than the terminal: a frame as tall as the terminal makes Ink clear the screen on
  // every update (flicker).
  const width = Math.max(20, columns);
  const height = Math.max(8, terminalRows - 1);

  const filtered = useMemo(() => filterRows(snapshot.rows, ui.query), [snapshot.rows, ui.query]);
  const curlMode = ui.mode === 'curl' && curlView !== null;
  // The curl view hides the header: its command needs the room, and it is an overlay.
  // Set before the listener starts; read again with every snapshot.
  const inspectUrl = useMemo(() => view.snapshot().inspectUrl, [view, snapshot.ready]);
  const header = curlMode ? [] : headerLines(snapshot, width, now, inspectUrl);
  const detailRow = ui.detailId === null ? null : findRow(snapshot.rows, ui.detailId);
  const detail = useEventDetail(view, ui.mode === 'detail' || ui.back === 'detail' ? ui.detailId : null, detailRow);
  const help = useMemo(() => helpDoc(), []);
  // Attachments listed or saved from the details, per event.
  const [attachments, setAttachments] = useState<ReadonlyMap<string, AttachmentsState>>(new Map());
  const attachmentsBusy = useRef(new Set<string>());
  const shownAttachments = ui.detailId === null ? undefined : attachments.get(ui.detailId);
  const detailDoc = useMemo(() => (detail.doc && shownAttachments ? withSection(detail.doc, 'Attachments', attachmentsLines(shownAttachments)) : detail.doc), [detail.doc, shownAttachments]);
  const paneDoc = ui.mode === 'detail' ? detailDoc : ui.mode === 'help' ? help : null;
  const wrapped = useMemo(() => (paneDoc ? wrapDoc(paneDoc, width, 4) : null), [paneDoc, width]);
  const pane = ui.mode === 'detail' || ui.mode === 'help';
  // `newer` does not depend on the list's height; the scroll range is shown for a one-line status.
  const stopping = finishing ? finishingLine(finishing, now) : null;
  const status = pane
    ? paneStatusLines(wrapped?.lines.length ?? 0, ui.mode === 'detail' ? ui.detailScroll : ui.overlayScroll, Math.max(1, height - header.length - 2), snapshot, width, stopping)
    : statusFor(ui, snapshot, filtered.length, windowFor(filtered, ui.position, 1).newer, width, stopping);
  const bodyHeight = Math.max(1, height - header.length - status.length - 1);
  const listHeight = Math.max(1, bodyHeight - 1);

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

  // Notices expire; the reconnect and retry countdowns tick.
  const latest = snapshot.notices[snapshot.notices.length - 1];
  useEffect(() => {
    if (!latest) return;
    const left = latest.at + NOTICE_MS - Date.now();
    if (left <= 0) return;
    const timer = setTimeout(() => setNow(Date.now()), left + 10);
    return () => clearTimeout(timer);
  }, [latest]);
  const tunnelDown = snapshot.tunnel.state === 'reconnecting' || snapshot.tunnel.state === 'offline';
  const retryScheduled = useMemo(() => snapshot.rows.some((row) => row.pending?.state === 'retry-scheduled'), [snapshot.rows]);
  useEffect(() => {
    if (!(tunnelDown && snapshot.tunnel.nextRetryAt !== null) && !retryScheduled) return;
    const timer = setInterval(() => setNow(Date.now()), 1_000);
    return () => clearInterval(timer);
  }, [tunnelDown, snapshot.tunnel.nextRetryAt, retryScheduled]);
  // The shutdown's countdown ticks.
  useEffect(() => {
    if (finishing?.deadlineAt == null) return;
    const timer = setInterval(() => setNow(Date.now()), 1_000);
    return () => clearInterval(timer);
  }, [finishing]);

  /** q asks once while events wait for the handler; Ctrl+C does not ask, and a second one quits now. */
  const requestQuit = useCallback(
    (ask: boolean) => {
      if (quitting.current) {
        if (!ask) onQuitNow?.();
        return;
      }
      const { waiting } = model.getSnapshot().stats;
      if (ask && waiting > 0 && !quitArmed.current) {
        quitArmed.current = true;
        model.notify(`${waiting} event${waiting === 1 ? '' : 's'} not yet forwarded — q again to quit`, 'warn');
        return;
      }
      quitting.current = true;
      model.notify('stopping: finishing writes and in-flight forwards, closing the tunnel…');
      onQuit();
    },
    [model, onQuit, onQuitNow],
  );

  const retryTunnel = useCallback(() => {
    const { state } = model.getSnapshot().tunnel;
    if (state === 'reconnecting' || state === 'offline') {
      view.retryTunnel();
      model.notify('retrying the tunnel now…');
    } else if (state === 'disabled') model.notify('there is no tunnel: this listener runs with --no-tunnel');
    else if (state === 'online') model.notify('the tunnel is online', 'ok');
    else model.notify('the tunnel is connecting…');
  }, [model, view]);

  const replay = useCallback(
    (id: string) => {
      const row = findRow(model.getSnapshot().rows, id);
      const base = targetFor(model.getSnapshot().targets, row?.mftg?.eventType);
      if (!base) {
        model.notify(`nothing to replay to: start the listener with --forward-to <url> (or: mftg-hooks replay ${id} --to <url>)`, 'fail');
        return;
      }
      model.notify(`replaying ${id} → ${base}…`);
      view.replay(id).then(
        (attempt) => model.notify(`replayed ${id}: ${formatOutcome(attempt)} · ${formatDuration(attempt.durationMs)} from ${attempt.target}`, isSuccess(attempt) ? 'ok' : 'fail'),
        (error: unknown) => model.notify(`replay of ${id} failed: ${(error as Error).message}`, 'fail'),
      );
    },
    [model, view],
  );

  const copyCurl = useCallback(
    (id: string) => {
      const writeToTerminal = stdout.isTTY ? (data: string): void => void stdout.write(data) : null;
      copyAsCurl(view, model.getSnapshot(), id, (text) => copy(text, writeToTerminal)).then(
        (copied) => {
          model.notify(copied.notice.text, copied.notice.tone);
          if (!copied.show) return;
          setCurlView(copied.show);
          update((state) => ({ ...state, mode: 'curl', back: state.mode === 'detail' ? 'detail' : state.mode === 'list' ? 'list' : state.back }));
        },
        (error: unknown) => model.notify(`could not copy ${id} as curl: ${(error as Error).message}`, 'fail'),
      );
    },
    [model, view, copy, stdout, update],
  );

  /** `a` lists the files of the event's message, `s` saves them; one run at a time per event. */
  const fetchAttachments = useCallback(
    (id: string, save: boolean) => {
      if (attachmentsBusy.current.has(id)) {
        model.notify('attachments: still busy with the last request for this event');
        return;
      }
      attachmentsBusy.current.add(id);
      const onState = (state: AttachmentsState): void => {
        setAttachments((current) => new Map(current).set(id, state));
        if (state.state === 'saving' && state.files.length > 0) return;
        const notice = attachmentsNotice(id, state);
        model.notify(notice.text, notice.tone);
      };
      const run = save ? saveEventAttachments(view, id, attachmentsDirOf(cwd, id), onState) : listAttachments(view, id, onState);
      void run.finally(() => attachmentsBusy.current.delete(id));
    },
    [model, view, cwd],
  );

  const handleKey = (input: string, key: Key): void => {
    if ([...input].length > 1 && !key.ctrl && !key.meta) {
      // Keys typed (or pasted) faster than the terminal is read arrive as one string: one at a time.
      for (const char of input) handleKey(...keyOfChar(char));
      return;
    }
    const state = uiRef.current;
    const action = actionFor(state.mode, input, key);
    if (action !== 'quit') quitArmed.current = false;
    if (action === null) {
      const typed = input.replace(/[\u0000-\u001f\u007f]/g, '');
      if (state.mode === 'filter' && typed && !key.ctrl && !key.meta) update((current) => reduceUi(current, { typed }, contextRef.current));
      return;
    }
    const eventId = state.mode === 'detail' ? state.detailId : selectedRowId(state, contextRef.current);
    switch (action) {
      case 'quit':
        requestQuit(true);
        return;
      case 'interrupt':
        requestQuit(false);
        return;
      case 'tunnel':
        retryTunnel();
        return;
      case 'replay':
        if (eventId) replay(eventId);
        return;
      case 'copy':
        if (eventId) copyCurl(eventId);
        return;
      case 'attachments':
      case 'saveAttachments':
        if (eventId) fetchAttachments(eventId, action === 'saveAttachments');
        return;
      default:
        update((current) => reduceUi(current, { action }, contextRef.current));
    }
  };
  useInput(handleKey, { isActive: isRawModeSupported === true });

  // ---- the frame -------------------------------------------------------------------------------
  let body;
  let frameHeight = height;
  if (curlMode) {
    // The command is one logical line that the terminal soft-wraps, so a copy from the screen is the
    // command. Ink counts it as one line: the frame is made as tall as the terminal (Ink then clears
    // the screen before every frame, so its line count never has to be right) and starts with as
    // many blank lines as the wraps add, which scroll away.
    const rows = Math.max(1, terminalRows - status.length - 1);
    const { extra } = curlPaneRows(curlView, width, rows);
    frameHeight = Math.max(1, terminalRows);
    body = <CurlPane view={curlView} width={width} rows={rows} extra={extra} />;
  } else if (ui.mode === 'list' || ui.mode === 'filter') {
    body = <EventList rows={filtered} position={ui.position} height={listHeight} width={width} targets={snapshot.targets} empty={emptyListLines(snapshot, ui.query)} now={now} />;
  } else if (wrapped) {
    body = <TextPane lines={wrapped.lines} scroll={ui.mode === 'detail' ? ui.detailScroll : ui.overlayScroll} height={bodyHeight} />;
  } else {
    const message: Line = detail.error ? [{ text: `  could not read event ${ui.detailId}: ${detail.error}`, color: 'red' }] : [{ text: `  reading event ${ui.detailId}…`, dim: true }];
    body = <TextPane lines={[[], message]} scroll={0} height={bodyHeight} />;
  }

  return (
    <ThemeContext.Provider value={theme}>
      <Box flexDirection="column" width={width} height={frameHeight} overflowY="hidden" overflowX={curlMode ? 'visible' : 'hidden'}>
        <Header snapshot={snapshot} width={width} now={now} inspectUrl={inspectUrl} hidden={curlMode} />
        {body}
        <ScreenLines lines={status} />
        <HelpBar mode={ui.mode} width={width} tunnelDown={tunnelDown} />
      </Box>
    </ThemeContext.Provider>
  );
}
