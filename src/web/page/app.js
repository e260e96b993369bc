// The mftg-hooks web inspector: one more face on the listener's session, beside the terminal UI and --json.
// Live over server-sent events (same records as --json), virtualised list, details, replay.
import { h, render } from 'preact';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import htm from 'htm';
import { BodyView, DiffView, classify } from './body-view.js';
import { bytes, clock, dateTime, safeH, duration, headersText, isOk, outcome, parseHeadersText, parties, searchText, titleOf, typeTone, utf8Text } from './text.js';

const html = htm.bind(safeH(h));

/** Height of one list row in pixels (the list is virtualised: only visible rows are in the DOM). */
const ROW_HEIGHT = 30;
/** Rows drawn above and below the visible ones. */
const OVERSCAN = 8;
/** Most events the page loads at once (the store keeps 10,000 by default). */
const LIST_LIMIT = 100000;
/** Rows loaded first, so a large store's page is usable at once; the rest of the history follows. */
const FIRST_PAGE_LIMIT = 200;
const NOTICES_MAX = 5;
/** How long a notice stays on screen. */
const NOTICE_MS = 8000;

let secret = document.querySelector('meta[name="mftg-hooks-secret"]')?.getAttribute('content') ?? '';

async function api(path, options = {}) {
  const init = { method: options.method ?? 'GET', headers: {} };
  if (init.method !== 'GET') {
    init.headers['x-mftg-hooks-secret'] = secret;
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(options.body ?? {});
  }
  const response = await fetch(path, init);
  if (options.raw) {
    if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
    return new Uint8Array(await response.arrayBuffer());
  }
  const value = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(value?.error?.message ?? `${response.status} ${response.statusText}`);
  return value;
}

const eventPath = (id) => `/api/events/${encodeURIComponent(id)}`;

// ---- the live model: every event row the page knows, updated by the stream -----------------------

/** Rows sorted by id (= arrival), oldest first; the stream and list loads feed it. */
class LiveList {
  constructor() {
    this.rows = [];
    this.byId = new Map();
    this.version = 0;
    this.listeners = new Set();
    this.scheduled = false;
  }

  changed() {
    this.version++;
    if (this.scheduled) return;
    this.scheduled = true;
    // A burst of hundreds of records costs one render per frame.
    requestAnimationFrame(() => {
      this.scheduled = false;
      for (const listener of this.listeners) listener(this.version);
    });
  }

  row(record) {
    return { ...record, attempts: record.attempts ?? [], pending: null, search: searchText(record) };
  }

  replace(records) {
    this.rows = records.map((record) => this.row(record));
    this.byId = new Map(this.rows.map((row) => [row.id, row]));
    this.changed();
  }

  addEvent(record) {
    if (this.byId.has(record.id)) return;
    const row = this.row(record);
    this.byId.set(row.id, row);
    const rows = this.rows;
    if (rows.length === 0 || rows[rows.length - 1].id < row.id) rows.push(row);
    else {
      let lo = 0;
      let hi = rows.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (rows[mid].id < row.id) lo = mid + 1;
        else hi = mid;
      }
      rows.splice(lo, 0, row);
    }
    this.changed();
  }

  addAttempt(record) {
    const row = this.byId.get(record.eventId);
    if (!row || row.attempts.some((a) => a.id === record.id)) return;
    const attempts = [...row.attempts, record];
    attempts.sort((a, b) => (a.startedAt < b.startedAt ? -1 : a.startedAt > b.startedAt ? 1 : 0));
    this.swap(row, { ...row, attempts });
  }

  setPending(eventId, pending) {
    const row = this.byId.get(eventId);
    if (row) this.swap(row, { ...row, pending });
  }

  swap(row, next) {
    this.byId.set(row.id, next);
    const index = this.rows.indexOf(row);
    if (index >= 0) this.rows[index] = next;
    this.changed();
  }
}

const live = new LiveList();

function useLiveVersion() {
  const [version, setVersion] = useState(live.version);
  useEffect(() => {
    live.listeners.add(setVersion);
    return () => live.listeners.delete(setVersion);
  }, []);
  return version;
}

/** The notice for a `reconcile` record of the listener (a reconcile run started or ended): [tone, text]. */
function reconcileNotice(record) {
  const since = dateTime(record.since);
  if (record.state === 'running') return ['info', `reconcile: checking the MFTG API for ${(record.types ?? []).join(' and ')} messages since ${since}…`];
  const recovered = record.recovered?.length ?? 0;
  const missed = `${recovered} missed deliver${recovered === 1 ? 'y' : 'ies'}`;
  if (record.state === 'failed')
    return ['fail', `reconcile failed: ${record.error ?? 'unknown error'}${recovered > 0 ? ` (recovered ${missed} before it stopped)` : ''}; capture goes on, the next run tries again`];
  const checked = Object.values(record.checked ?? {}).reduce((sum, n) => sum + n, 0);
  const window = `checked ${checked} message${checked === 1 ? '' : 's'} since ${since}`;
  if (recovered === 0) return ['info', `reconcile: nothing missed (${window})`];
  return ['ok', `reconcile: recovered ${missed} through the MFTG API (${window}, ${record.alreadyCaptured} already captured)`];
}

/**
 * The stream: connects, resumes with Last-Event-ID (the browser's own on its reconnects, a query
 * parameter when it gave up), and on `hello`/`reset` loads the list anew while buffering the live
 * records that arrive meanwhile, so nothing falls between the list and the stream.
 */
function connectStream(handlers) {
  let source = null;
  let lastId = null;
  let buffer = null;
  /** Records applied live while the whole history loads behind the first page, applied again after it. */
  let replaying = null;
  let generation = 0;
  let closed = false;

  const apply = (record) => {
    switch (record.type) {
      case 'event':
        live.addEvent(record);
        break;
      case 'attempt':
        live.addAttempt(record);
        handlers.onAttempt(record);
        break;
      case 'pending':
        live.setPending(record.eventId, record.pending);
        break;
      case 'cleared':
        live.replace([]);
        handlers.onNotice('info', 'the store was cleared');
        break;
      case 'warning':
        handlers.onNotice('warn', record.message);
        break;
      case 'rejected':
        handlers.onNotice('warn', `rejected a request (${record.reason}) to ${record.path}`);
        break;
      case 'reconcile':
        handlers.onNotice(...reconcileNotice(record));
        break;
      default:
        break;
    }
  };

  const load = async () => {
    const mine = ++generation;
    buffer = [];
    handlers.onLoading(true);
    try {
      const first = await api(`/api/events?limit=${FIRST_PAGE_LIMIT}`);
      if (mine !== generation) return;
      live.replace(first.events);
      const early = buffer;
      buffer = null;
      for (const record of early) apply(record);
      handlers.onLoading(false);
      if (first.events.length < FIRST_PAGE_LIMIT) return;
      // The older history, behind the first page: live records keep applying meanwhile, and are
      // applied again on top of the whole list (events and attempts are kept once by id).
      replaying = [...early];
      const all = await api(`/api/events?limit=${LIST_LIMIT}`);
      if (mine !== generation) return;
      live.replace(all.events);
      for (const record of replaying) apply(record);
    } catch (error) {
      handlers.onNotice('fail', `could not load the events: ${error.message}`);
    } finally {
      if (mine === generation) {
        buffer = null;
        replaying = null;
        handlers.onLoading(false);
      }
    }
  };

  const open = () => {
    if (closed) return;
    source = new EventSource(lastId ? `/api/stream?lastEventId=${encodeURIComponent(lastId)}` : '/api/stream');
    const remember = (message) => {
      if (message.lastEventId) lastId = message.lastEventId;
    };
    source.onopen = () => handlers.onConnection('live');
    source.onmessage = (message) => {
      remember(message);
      const record = JSON.parse(message.data);
      if (buffer) buffer.push(record);
      else {
        apply(record);
        replaying?.push(record);
      }
    };
    source.addEventListener('hello', (message) => {
      remember(message);
      void load();
    });
    source.addEventListener('reset', (message) => {
      remember(message);
      handlers.onNotice('info', 'reconnected to a new inspector run: reloaded the events');
      void load();
    });
    source.addEventListener('session', (message) => {
      const session = JSON.parse(message.data);
      if (session.secret) secret = session.secret;
      handlers.onSession(session);
    });
    source.onerror = () => {
      handlers.onConnection('reconnecting');
      if (source.readyState === EventSource.CLOSED) {
        source = null;
        setTimeout(open, 1000);
      }
    };
  };
  open();
  return () => {
    closed = true;
    source?.close();
  };
}

// ---- filters ----------------------------------------------------------------------------------

const RESULT_FILTERS = {
  all: () => true,
  ok: (row) => isOk(row.attempts[row.attempts.length - 1]),
  failed: (row) => row.attempts.length > 0 && !isOk(row.attempts[row.attempts.length - 1]),
  waiting: (row) => row.pending != null,
  none: (row) => row.attempts.length === 0,
};

function filterRows(rows, filter) {
  const text = filter.text.trim().toLowerCase();
  const byResult = RESULT_FILTERS[filter.result] ?? RESULT_FILTERS.all;
  const out = [];
  for (const row of rows) {
    if (filter.type !== 'all' && typeTone(row.eventType) !== filter.type) continue;
    if (!byResult(row)) continue;
    if (text && !row.search.includes(text)) continue;
    out.push(row);
  }
  if (filter.order === 'newest') out.reverse();
  return out;
}

// ---- header -----------------------------------------------------------------------------------

function CopyButton({ text, label = 'Copy', onNotice }) {
  const [done, setDone] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setDone(true);
      setTimeout(() => setDone(false), 1500);
    } catch (error) {
      onNotice('warn', `could not copy (${error.message}); select the text instead`);
    }
  };
  return html`<button type="button" class="button small" onClick=${copy}>${done ? 'Copied' : label}</button>`;
}

function tunnelText(tunnel) {
  if (!tunnel) return 'unknown';
  switch (tunnel.state) {
    case 'online':
      return 'online';
    case 'disabled':
      return 'off (--no-tunnel)';
    case 'reconnecting':
      return `reconnecting${tunnel.attempt ? ` (attempt ${tunnel.attempt}${tunnel.nextRetryAt ? `, next ${clock(tunnel.nextRetryAt)}` : ''})` : ''}`;
    default:
      return tunnel.state;
  }
}

function Header({ session, connection, onNotice, onTrigger }) {
  const tunnel = session?.tunnel;
  const stats = session?.stats;
  const routes = Object.entries(session?.routes ?? {});
  const inspect = session?.mode === 'inspect';
  return html`<header class="top">
    <div class="brand">
      <span class="logo" aria-hidden="true">◆</span><strong>mftg-hooks</strong>
      ${inspect ? html`<span class="badge other">inspect · store only</span>` : null}
      <span class=${`conn ${connection}`} data-testid="connection">${connection === 'live' ? '● live' : connection === 'reconnecting' ? '○ reconnecting…' : '○ connecting…'}</span>
    </div>
    ${
      inspect
        ? html`<div class="field"><span class="label">store</span><code>${session?.store ?? ''}</code></div>`
        : html`<div class="field url">
          <span class="label">public URL</span>
          ${
            session?.publicUrl
              ? html`<code class=${tunnel?.state === 'online' ? '' : 'dim'} data-testid="public-url">${session.publicUrl}</code><${CopyButton} text=${session.publicUrl} onNotice=${onNotice} />`
              : html`<code class="dim">${session?.localUrl ? `${session.localUrl} (local only)` : '—'}</code>`
          }
          <span class=${`badge tunnel-${tunnel?.state ?? 'unknown'}`} title=${tunnel?.reason ?? ''} data-testid="tunnel-state">tunnel ${tunnelText(tunnel)}</span>
          ${tunnel && (tunnel.state === 'reconnecting' || tunnel.state === 'offline') ? html`<button type="button" class="button small" onClick=${() => api('/api/tunnel/retry', { method: 'POST' }).catch((e) => onNotice('fail', e.message))}>Retry now</button>` : null}
        </div>`
    }
    ${
      !inspect
        ? html`<div class="field"><span class="label">forward</span><code data-testid="forward-to">${session?.forwardTo ?? 'none (capture and show only)'}</code>
          ${routes.map(([type, url]) => html`<span class="route"><span class=${`type ${typeTone(type)}`}>${type}</span> → <code>${url}</code></span>`)}</div>`
        : null
    }
    ${
      stats
        ? html`<div class="counts" data-testid="counts">
          <span><b>${stats.captured}</b> captured</span>
          <span class="ok"><b>${stats.delivered}</b> forwarded ok</span>
          <span class="fail"><b>${stats.failed}</b> failed</span>
          <span class="warn"><b>${stats.waiting}</b> waiting</span>
          <span><b>${stats.rejected}</b> rejected</span>
          <span class="muted">attempts ${stats.attempts.ok} ok · ${stats.attempts.failed} failed</span>
        </div>`
        : null
    }
    <${TriggerForm} onTrigger=${onTrigger} />
  </header>`;
}

function TriggerForm({ onTrigger }) {
  const [type, setType] = useState('MESSAGE.RECEIVED.SUCCESS');
  const [variant, setVariant] = useState('both');
  return html`<form class="trigger" onSubmit=${(e) => {
    e.preventDefault();
    onTrigger(type, variant);
  }}>
    <select aria-label="sample event type" value=${type} onChange=${(e) => setType(e.currentTarget.value)}>
      <option value="MESSAGE.RECEIVED.SUCCESS">MESSAGE.RECEIVED.SUCCESS</option>
      <option value="MESSAGE.SEND.SUCCESS">MESSAGE.SEND.SUCCESS</option>
      <option value="MESSAGE.SEND.FAILED">MESSAGE.SEND.FAILED</option>
    </select>
    <select aria-label="field names" value=${variant} onChange=${(e) => setVariant(e.currentTarget.value)} title="field names: both (what MFTG sends today), legacy *AS2ID only, modern *Identifier only">
      <option value="both">both names</option>
      <option value="legacy">legacy names</option>
      <option value="modern">modern names</option>
    </select>
    <button type="submit" class="button">Trigger sample</button>
  </form>`;
}

// ---- the list ---------------------------------------------------------------------------------

function statusCell(row) {
  const last = row.attempts[row.attempts.length - 1];
  if (row.pending) {
    const text = row.pending.state === 'retry-scheduled' ? `retry ${row.pending.retry}/${row.pending.of}` : 'waiting';
    return html`<span class="warn">${text}</span>`;
  }
  if (!last) return html`<span class="muted">—</span>`;
  return html`<span class=${isOk(last) ? 'ok' : 'fail'}>${outcome(last)}</span> <span class="muted">${duration(last.durationMs)}</span>`;
}

function Row({ row, selected, top, onSelect }) {
  const source = row.source ?? 'webhook';
  return html`<div role="row" class=${selected ? 'row selected' : 'row'} data-id=${row.id} aria-selected=${selected} style=${{ top: `${top}px`, height: `${ROW_HEIGHT}px` }} onClick=${() => onSelect(row.id)}>
    <span class="c-time">${clock(row.receivedAt)}</span>
    <span class="c-source"><span class=${`src src-${source}`}>${source}</span></span>
    <span class=${`c-type type ${typeTone(row.eventType)}`}>${titleOf(row)}</span>
    <span class="c-msg" title=${row.messageId ?? ''}>${row.messageId ?? ''}</span>
    <span class="c-parties" title=${parties(row)}>${parties(row)}</span>
    <span class="c-status">${statusCell(row)}</span>
  </div>`;
}

function EventList({ rows, total, selectedId, onSelect, listRef, loading }) {
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(600);
  useEffect(() => {
    const element = listRef.current;
    if (!element) return undefined;
    const observer = new ResizeObserver(() => setHeight(element.clientHeight));
    observer.observe(element);
    setHeight(element.clientHeight);
    return () => observer.disconnect();
  }, []);
  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(rows.length, Math.ceil((scrollTop + height) / ROW_HEIGHT) + OVERSCAN);
  const visible = rows.slice(first, last);
  return html`<section class="list-pane">
    <div class="list-head" role="row">
      <span class="c-time">time</span><span class="c-source">source</span><span class="c-type">event</span><span class="c-msg">message id</span><span class="c-parties">partner → station</span><span class="c-status">forward</span>
    </div>
    <div class="list" role="grid" aria-rowcount=${rows.length} ref=${listRef} onScroll=${(e) => setScrollTop(e.currentTarget.scrollTop)} data-testid="list">
      <div class="list-inner" style=${{ height: `${rows.length * ROW_HEIGHT}px` }}>
        ${visible.map((row, i) => html`<${Row} key=${row.id} row=${row} top=${(first + i) * ROW_HEIGHT} selected=${row.id === selectedId} onSelect=${onSelect} />`)}
      </div>
      ${rows.length === 0 && !loading ? html`<p class="empty">${total === 0 ? 'No events yet. Point MFTG at the public URL, or trigger a sample above.' : `No event matches the filters (${total} stored).`}</p>` : null}
    </div>
    <div class="list-foot" data-testid="list-count">${loading ? 'loading…' : `${rows.length === total ? `${total} events` : `${rows.length} of ${total} events`}`}</div>
  </section>`;
}

function Filters({ filter, setFilter, searchRef }) {
  const set = (key) => (e) => setFilter({ ...filter, [key]: e.currentTarget.type === 'checkbox' ? e.currentTarget.checked : e.currentTarget.value });
  return html`<div class="filters">
    <input ref=${searchRef} type="search" placeholder="filter: id, message id, partner, station, subject  ( / )" value=${filter.text} onInput=${set('text')} aria-label="filter text" data-testid="filter-text" />
    <select value=${filter.type} onChange=${set('type')} aria-label="event type">
      <option value="all">all types</option><option value="received">received</option><option value="sent">sent</option><option value="failed">send failed</option><option value="other">not MFTG</option>
    </select>
    <select value=${filter.result} onChange=${set('result')} aria-label="result">
      <option value="all">any result</option><option value="ok">forwarded ok</option><option value="failed">forward failed</option><option value="waiting">waiting</option><option value="none">not forwarded</option>
    </select>
    <select value=${filter.order} onChange=${set('order')} aria-label="order">
      <option value="newest">newest first</option><option value="oldest">oldest first</option>
    </select>
    <label class="check" title="select each new event as it arrives (f)"><input type="checkbox" checked=${filter.follow} onChange=${set('follow')} /> follow</label>
  </div>`;
}

// ---- details ----------------------------------------------------------------------------------

function Headers({ pairs }) {
  if (pairs.length === 0) return html`<p class="muted">(no headers)</p>`;
  return html`<table class="headers"><tbody>${pairs.map(([name, value], i) => html`<tr key=${i}><th>${name}</th><td>${value}</td></tr>`)}</tbody></table>`;
}

function Attempt({ eventId, attempt }) {
  const [open, setOpen] = useState(false);
  const [body, setBody] = useState(null);
  useEffect(() => {
    if (!open || body || attempt.responseSize === 0) return;
    api(`${eventPath(eventId)}/attempts/${encodeURIComponent(attempt.id)}/response`, { raw: true }).then(setBody, () => setBody(new Uint8Array(0)));
  }, [open]);
  return html`<li class="attempt" data-kind=${attempt.kind} data-testid="attempt">
    <button type="button" class="attempt-line" aria-expanded=${open} onClick=${() => setOpen(!open)}>
      <span class="muted">${clock(attempt.startedAt)}</span>
      <span class="kind">${attempt.kind}${attempt.modified ? ' (modified)' : ''}</span>
      <span class=${isOk(attempt) ? 'ok strong' : 'fail strong'}>${outcome(attempt)}</span>
      <span>${duration(attempt.durationMs)}</span>
      <span class="muted target">→ ${attempt.target}</span>
    </button>
    ${
      open
        ? html`<div class="attempt-detail">
          ${attempt.error ? html`<p class="fail">No response: ${attempt.error}</p>` : html`<${Headers} pairs=${attempt.responseHeaders ?? []} />`}
          ${
            attempt.responseSize > 0
              ? body
                ? html`<${BodyView} data=${body} label="response" downloadHref=${`${eventPath(eventId)}/attempts/${encodeURIComponent(attempt.id)}/response`} />${body.length < attempt.responseSize ? html`<p class="muted">[… ${bytes(attempt.responseSize - body.length)} more were not kept]</p>` : null}`
                : html`<p class="muted">loading…</p>`
              : html`<p class="muted">(empty response body)</p>`
          }
        </div>`
        : null
    }
  </li>`;
}

function Summary({ detail }) {
  const m = detail.mftg;
  if (!m) return html`<p class="muted">Not an MFTG document: shown and forwarded like any request.</p>`;
  const rows = [];
  if (m.messageId) rows.push(['message id', m.messageId]);
  if (m.partner || m.partnerName) rows.push(['partner', [m.partner, m.partnerName && `(${m.partnerName})`].filter(Boolean).join(' ')]);
  if (m.station || m.stationName) rows.push(['station', [m.station, m.stationName && `(${m.stationName})`].filter(Boolean).join(' ')]);
  if (m.subject) rows.push(['subject', m.subject]);
  return html`<table class="summary" data-testid="summary"><tbody>
    ${rows.map(([label, value]) => html`<tr key=${label}><th>${label}</th><td>${value}</td></tr>`)}
    ${m.attachments.length > 0 ? html`<tr><th>attachments</th><td><ul class="plain">${m.attachments.map((key) => html`<li key=${key}><code>${key}</code></li>`)}</ul></td></tr>` : null}
    ${m.failureReason || m.failures !== null ? html`<tr class="fail"><th>failure</th><td>${m.failureReason ?? 'no reason given'}${m.failures !== null ? ` (${m.failures} failed attempt${m.failures === 1 ? '' : 's'})` : ''}</td></tr>` : null}
  </tbody></table>`;
}

/** Event types whose message MFTG's API can find (inbox for received, outbox for sent and failed). */
const MESSAGE_TYPES = new Set(['MESSAGE.RECEIVED.SUCCESS', 'MESSAGE.SEND.SUCCESS', 'MESSAGE.SEND.FAILED']);
/** The files are asked of MFTG only once the details stay on one event this long (j/k skims past). */
const FILES_SETTLE_MS = 250;
/** Listings already fetched by this page, by event id (the links themselves stay on the server). */
const filesCache = new Map();

/** A JSON error answer of the API → {code, message, hint}. */
async function errorOf(response) {
  const value = await response.json().catch(() => ({}));
  return { code: value?.error?.code ?? null, message: value?.error?.message ?? `${response.status} ${response.statusText}`, hint: value?.error?.hint ?? null };
}

/** Saves a fetched file under its name (the bytes go through this page's own origin, never from S3). */
function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

/** The message's files through the MFTG API, each downloadable through the inspector. */
function Files({ id, setup }) {
  if (!setup?.ready) {
    if (setup?.code === 'E_MFTG_NO_CREDENTIALS') {
      return html`<div class="files-section" data-testid="files"><p class="muted" data-testid="files-note">To list and download this message's files through the MFTG API, set <code>MFTG_API_USERNAME</code> and <code>MFTG_API_PASSWORD</code> (the API user of your MFTG account), or <code>MFTG_API_TOKEN</code>, in the environment of mftg-hooks, and start it again.</p></div>`;
    }
    return html`<div class="files-section" data-testid="files"><p class="muted" data-testid="files-note">${setup?.message ?? 'loading…'}</p></div>`;
  }
  return html`<${FileList} id=${id} />`;
}

function FileList({ id }) {
  const [state, setState] = useState(() => (filesCache.has(id) ? { listing: filesCache.get(id) } : { loading: true }));
  const [reload, setReload] = useState(0);
  const [downloads, setDownloads] = useState({});
  useEffect(() => {
    setDownloads({});
    if (reload === 0 && filesCache.has(id)) return setState({ listing: filesCache.get(id) });
    let live = true;
    setState({ loading: true });
    const timer = setTimeout(async () => {
      try {
        const response = await fetch(`${eventPath(id)}/attachments`);
        if (!response.ok) throw await errorOf(response);
        const listing = await response.json();
        filesCache.set(id, listing);
        if (live) setState({ listing });
      } catch (error) {
        if (live) setState({ error: error.code !== undefined ? error : { code: null, message: error.message, hint: null } });
      }
    }, FILES_SETTLE_MS);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [id, reload]);

  const download = async (event, file) => {
    event.preventDefault();
    setDownloads((d) => ({ ...d, [file.index]: { busy: true } }));
    try {
      const response = await fetch(file.href);
      if (!response.ok) throw await errorOf(response);
      const blob = await response.blob();
      saveBlob(blob, file.name);
      setDownloads((d) => ({ ...d, [file.index]: { done: `downloaded, ${bytes(blob.size)}` } }));
    } catch (error) {
      const message =
        error.code === 'E_MFTG_LINK_EXPIRED'
          ? `${error.message}: MFTG's download links last about 10 minutes; try again.`
          : error.code !== undefined
            ? error.message
            : `the download broke off (${error.message})`;
      setDownloads((d) => ({ ...d, [file.index]: { error: message } }));
    }
  };

  let content;
  if (state.loading) content = html`<p class="muted">asking MFTG for the message's files…</p>`;
  else if (state.error) {
    content = html`<p class="fail" role="alert" data-testid="files-note">${state.error.message}${state.error.hint ? html` <span class="muted">(${state.error.hint})</span>` : null}</p>`;
  } else if (state.listing.files.length === 0) content = html`<p class="muted" data-testid="files-note">MFTG lists no files for this message.</p>`;
  else {
    content = html`<ul class="plain files">${state.listing.files.map((file) => {
      const d = downloads[file.index] ?? {};
      return html`<li key=${file.index} data-testid="file">
        <code class="name">${file.name}</code>
        ${
          file.href
            ? html` <a class="button small" href=${file.href} download=${file.name} onClick=${(e) => download(e, file)} data-testid="file-download">${d.busy ? 'Downloading…' : 'Download'}</a>`
            : html` <span class="fail" data-testid="file-refused">${file.refused}: not offered</span>`
        }
        ${d.error ? html` <span class="fail" role="alert" data-testid="file-error">${d.error}</span>` : d.done ? html` <span class="muted" data-testid="file-done">${d.done}</span>` : null}
      </li>`;
    })}</ul>`;
  }
  return html`<div class="files-section" data-testid="files">
    ${content}
    ${state.loading ? null : html`<button type="button" class="button small" onClick=${() => setReload((n) => n + 1)} title="ask MFTG again">Reload the files</button>`}
  </div>`;
}

/** Replay with edits: the body and headers in text areas, JSON checked before sending, and a diff. */
function Editor({ detail, body, onSend, onClose }) {
  const original = useMemo(() => utf8Text(body), [body]);
  const wasJson = useMemo(() => classify(body).json !== undefined, [body]);
  const originalHeaders = useMemo(() => headersText(detail.headers), [detail]);
  const [text, setText] = useState(original ?? '');
  const [headers, setHeaders] = useState(originalHeaders);
  const [tab, setTab] = useState('edit');
  const [sending, setSending] = useState(false);
  const parsedHeaders = parseHeadersText(headers);
  let jsonError = null;
  if (original !== null && wasJson && text !== original) {
    try {
      JSON.parse(text);
    } catch (error) {
      jsonError = error.message;
    }
  }
  const error = parsedHeaders.error ? `headers: ${parsedHeaders.error}` : jsonError ? `body is not valid JSON: ${jsonError}` : null;
  const send = async () => {
    if (error) return;
    const edits = {};
    if (original !== null && text !== original) edits.body = { encoding: 'utf8', data: text };
    if (headers !== originalHeaders) edits.headers = parsedHeaders.pairs;
    setSending(true);
    try {
      await onSend(edits);
    } finally {
      setSending(false);
    }
  };
  return html`<section class="editor" data-testid="editor">
    <div class="tabs">
      <button type="button" class=${tab === 'edit' ? 'tab on' : 'tab'} onClick=${() => setTab('edit')}>Edit</button>
      <button type="button" class=${tab === 'diff' ? 'tab on' : 'tab'} onClick=${() => setTab('diff')} data-testid="diff-tab">Diff</button>
      <span class="grow"></span>
      <button type="button" class="button small" onClick=${onClose}>Cancel (Esc)</button>
    </div>
    ${
      tab === 'edit'
        ? html`<label class="stack">Headers <span class="muted">(one "Name: value" a line; hop-by-hop ones are dropped when sent)</span>
            <textarea class="code" rows="6" spellcheck="false" value=${headers} onInput=${(e) => setHeaders(e.currentTarget.value)} data-testid="edit-headers"></textarea></label>
          ${
            original === null
              ? html`<p class="muted">The body is binary: it is sent exactly as captured.</p>`
              : html`<label class="stack">Body${wasJson ? html` <span class="muted">(JSON, checked before sending)</span>` : null}
                <textarea class="code" rows="16" spellcheck="false" value=${text} onInput=${(e) => setText(e.currentTarget.value)} data-testid="edit-body"></textarea></label>`
          }`
        : html`<${DiffView} before=${original ?? ''} after=${text} />`
    }
    ${error ? html`<p class="fail" role="alert" data-testid="edit-error">${error}</p>` : null}
    <div class="actions"><button type="button" class="button primary" disabled=${Boolean(error) || sending} onClick=${send} data-testid="send-edited">${sending ? 'Sending…' : 'Send edited replay'}</button></div>
  </section>`;
}

function Details({ id, session, target, setTarget, onNotice, editing, setEditing, reloadKey, replayRef }) {
  const [state, setState] = useState({ id: null, detail: null, body: null, error: null });
  const [curl, setCurl] = useState(null);
  useEffect(() => {
    let live = true;
    setCurl(null);
    Promise.all([api(eventPath(id)), api(`${eventPath(id)}/body`, { raw: true })]).then(
      ([detail, body]) => live && setState({ id, detail, body, error: null }),
      (error) => live && setState({ id, detail: null, body: null, error: error.message }),
    );
    return () => {
      live = false;
    };
  }, [id, reloadKey]);

  const needsTarget = session?.mode === 'inspect' || (!session?.forwardTo && Object.keys(session?.routes ?? {}).length === 0);
  const replay = useCallback(
    async (edits = {}) => {
      const body = { ...edits };
      if (target.trim()) body.target = target.trim();
      onNotice('info', `replaying ${id}…`);
      try {
        const attempt = await api(`${eventPath(id)}/replay`, { method: 'POST', body });
        onNotice(isOk(attempt) ? 'ok' : 'fail', `replayed ${id}${attempt.modified ? ' (modified)' : ''}: ${outcome(attempt)} · ${duration(attempt.durationMs)} from ${attempt.target}`);
        setEditing(false);
      } catch (error) {
        onNotice('fail', `replay of ${id} failed: ${error.message}`);
      }
    },
    [id, target],
  );
  replayRef.current = replay;

  const copyCurl = async () => {
    try {
      const result = await api(`${eventPath(id)}/export?format=curl${target.trim() ? `&to=${encodeURIComponent(target.trim())}` : ''}`);
      setCurl(result);
      await navigator.clipboard.writeText(result.curl).then(
        () => onNotice('ok', `curl command copied (${result.note})`),
        () => onNotice('warn', 'could not write to the clipboard: copy the command below'),
      );
    } catch (error) {
      onNotice('fail', `curl: ${error.message}`);
    }
  };

  if (state.error && state.id !== id) return html`<section class="detail-pane"><p class="fail">${state.error}</p></section>`;
  const { detail, body } = state;
  if (!detail || detail.id !== id) return html`<section class="detail-pane"><p class="muted">loading…</p></section>`;
  const attempts = [...detail.attempts].reverse();
  return html`<section class="detail-pane" data-testid="details">
    <div class="detail-title">
      <h2 class=${`type ${typeTone(detail.eventType)}`}>${titleOf(detail)}</h2>
      <code class="muted">${detail.id}</code>
      <span class=${`src src-${detail.source ?? 'webhook'}`}>${detail.source ?? 'webhook'}</span>
    </div>
    <div class="actions">
      <button type="button" class="button primary" onClick=${() => replay()} title="send the stored bytes again (r)" data-testid="replay">Replay</button>
      <button type="button" class="button" onClick=${() => setEditing(!editing)} title="edit body and headers first (e)" data-testid="replay-edit">Replay with edits</button>
      <button type="button" class="button" onClick=${copyCurl}>Copy as curl</button>
      <a class="button" href=${`${eventPath(id)}/export?format=json`} download>JSON</a>
      <a class="button" href=${`${eventPath(id)}/export?format=har`} download>HAR</a>
      ${
        needsTarget
          ? html`<label class="target">replay to <input type="url" placeholder="http://localhost:3000/webhooks/mftg" value=${target} onInput=${(e) => setTarget(e.currentTarget.value)} data-testid="target" /></label>`
          : null
      }
    </div>
    ${curl ? html`<div class="curl"><div class="muted">curl ${curl.note}</div><pre class="code" data-testid="curl">${curl.curl}</pre></div>` : null}
    ${editing ? html`<${Editor} key=${id} detail=${detail} body=${body} onSend=${replay} onClose=${() => setEditing(false)} />` : null}
    <h3>Summary</h3>
    <${Summary} detail=${detail} />
    ${detail.mftg?.messageId && MESSAGE_TYPES.has(detail.eventType) ? html`<h3>Files <span class="muted">(through the MFTG API)</span></h3><${Files} key=${id} id=${id} setup=${session?.attachments} />` : null}
    <h3>Attempts <span class="muted">(${detail.attempts.length}${detail.attempts.length > 1 ? ', newest first' : ''})</span></h3>
    ${attempts.length === 0 ? html`<p class="muted">none yet</p>` : html`<ul class="attempts">${attempts.map((a) => html`<${Attempt} key=${a.id} eventId=${id} attempt=${a} />`)}</ul>`}
    <h3>Request</h3>
    <p class="request-line"><code data-testid="request-line">${detail.method} ${detail.path}</code> <span class="muted">${bytes(detail.size)} · ${dateTime(detail.receivedAt)} from ${detail.remoteAddress ?? '?'}</span></p>
    <${Headers} pairs=${detail.headers} />
    <h3>Body</h3>
    <${BodyView} key=${id} data=${body} downloadHref=${`${eventPath(id)}/body`} label="body" />
  </section>`;
}

// ---- the app ----------------------------------------------------------------------------------

function Notices({ notices }) {
  return html`<div class="notices" aria-live="polite" data-testid="notices">${notices.map((n) => html`<div key=${n.seq} class=${`notice ${n.tone}`}>${n.text}</div>`)}</div>`;
}

function App() {
  const version = useLiveVersion();
  const [session, setSession] = useState(null);
  const [connection, setConnection] = useState('connecting');
  const [loading, setLoading] = useState(true);
  const [notices, setNotices] = useState([]);
  const [filter, setFilter] = useState({ text: '', type: 'all', result: 'all', order: 'newest', follow: false });
  const [selectedId, setSelectedId] = useState(null);
  const [editing, setEditing] = useState(false);
  const [target, setTarget] = useState(() => sessionStorage.getItem('mftg-hooks-target') ?? '');
  const [reloadKey, setReloadKey] = useState(0);
  const listRef = useRef(null);
  const searchRef = useRef(null);
  const replayRef = useRef(null);
  const selectedRef = useRef(null);
  selectedRef.current = selectedId;
  const seq = useRef(0);

  const notify = useCallback((tone, text) => {
    const notice = { seq: ++seq.current, tone, text };
    setNotices((old) => [...old, notice].slice(-NOTICES_MAX));
    setTimeout(() => setNotices((old) => old.filter((n) => n !== notice)), NOTICE_MS);
  }, []);

  useEffect(() => sessionStorage.setItem('mftg-hooks-target', target), [target]);

  useEffect(
    () =>
      connectStream({
        onSession: setSession,
        onConnection: setConnection,
        onLoading: setLoading,
        onNotice: notify,
        onAttempt: (record) => {
          if (record.eventId === selectedRef.current) setReloadKey((k) => k + 1);
        },
      }),
    [],
  );

  const rows = useMemo(() => filterRows(live.rows, filter), [version, filter]);

  // Follow: the newest event is selected as it arrives.
  const newest = live.rows[live.rows.length - 1]?.id ?? null;
  useEffect(() => {
    if (filter.follow && newest && !editing) setSelectedId(newest);
  }, [newest, filter.follow]);
  useEffect(() => {
    if (!selectedId && rows.length > 0 && !loading) setSelectedId(rows[0].id);
  }, [rows, loading]);

  const scrollToIndex = (index) => {
    const list = listRef.current;
    if (!list || index < 0) return;
    const top = index * ROW_HEIGHT;
    if (top < list.scrollTop) list.scrollTop = top;
    else if (top + ROW_HEIGHT > list.scrollTop + list.clientHeight) list.scrollTop = top + ROW_HEIGHT - list.clientHeight;
  };
  useEffect(() => {
    scrollToIndex(rows.findIndex((row) => row.id === selectedId));
  }, [selectedId]);

  const move = (delta) => {
    if (rows.length === 0) return;
    const index = rows.findIndex((row) => row.id === selectedId);
    const next = Math.max(0, Math.min(rows.length - 1, index < 0 ? 0 : index + delta));
    setEditing(false);
    setSelectedId(rows[next].id);
  };

  useEffect(() => {
    const onKey = (e) => {
      const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(e.target.tagName);
      if (e.key === 'Escape') {
        if (typing) e.target.blur();
        setEditing(false);
        return;
      }
      if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
      switch (e.key) {
        case 'j':
        case 'ArrowDown':
          move(1);
          break;
        case 'k':
        case 'ArrowUp':
          move(-1);
          break;
        case '/':
          searchRef.current?.focus();
          break;
        case 'r':
          if (selectedId) void replayRef.current?.();
          break;
        case 'e':
          if (selectedId) setEditing(true);
          break;
        case 'f':
          setFilter((f) => ({ ...f, follow: !f.follow }));
          break;
        default:
          return;
      }
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });

  const trigger = async (eventType, variant) => {
    try {
      const result = await api('/api/trigger', { method: 'POST', body: { eventType, variant } });
      notify('ok', `triggered ${eventType} as event ${result.id}`);
    } catch (error) {
      notify('fail', `trigger failed: ${error.message}`);
    }
  };

  return html`<div class="app">
    <${Header} session=${session} connection=${connection} onNotice=${notify} onTrigger=${trigger} />
    <${Filters} filter=${filter} setFilter=${setFilter} searchRef=${searchRef} />
    <main class="panes">
      <${EventList} rows=${rows} total=${live.rows.length} selectedId=${selectedId} onSelect=${(id) => {
        setEditing(false);
        setSelectedId(id);
      }} listRef=${listRef} loading=${loading} />
      ${
        selectedId
          ? html`<${Details} id=${selectedId} session=${session} target=${target} setTarget=${setTarget} onNotice=${notify} editing=${editing} setEditing=${setEditing} reloadKey=${reloadKey} replayRef=${replayRef} />`
          : html`<section class="detail-pane"><p class="muted">Select an event (j/k).</p></section>`
      }
    </main>
    <footer class="keys"><kbd>j</kbd>/<kbd>k</kbd> move · <kbd>/</kbd> filter · <kbd>r</kbd> replay · <kbd>e</kbd> replay with edits · <kbd>f</kbd> follow · <kbd>Esc</kbd> back</footer>
    <${Notices} notices=${notices} />
  </div>`;
}

render(html`<${App} />`, document.getElementById('app'));
