// Views of captured bytes: JSON (highlighted, foldable), text, hex, and a line diff.
// Captured bytes are hostile: everything here is rendered as text nodes by Preact, never as HTML.
import { h } from 'preact';
import { useMemo, useState } from 'preact/hooks';
import htm from 'htm';
import { bytes, hexLines, lineDiff, parseJson, safeH, utf8Text } from './text.js';

const html = htm.bind(safeH(h));

/** Bodies above this are shown as text only (a JSON tree of megabytes would stall the page). */
export const TREE_MAX_BYTES = 2 * 1024 * 1024;
/** The raw and text views show at most this much; the download has everything. */
export const TEXT_MAX_CHARS = 512 * 1024;
/** The hex view shows at most this many bytes. */
export const HEX_MAX_BYTES = 64 * 1024;
/** Children of one object or array shown before "… N more". */
const CHILDREN_MAX = 500;

function Scalar({ value }) {
  if (value === null) return html`<span class="j-null">null</span>`;
  switch (typeof value) {
    case 'string':
      return html`<span class="j-str">${JSON.stringify(value)}</span>`;
    case 'number':
      return html`<span class="j-num">${String(value)}</span>`;
    case 'boolean':
      return html`<span class="j-bool">${String(value)}</span>`;
    default:
      return html`<span>${String(value)}</span>`;
  }
}

function JsonNode({ name, value, depth, last }) {
  const [open, setOpen] = useState(depth < 3);
  const comma = last ? '' : ',';
  const key = name === undefined ? null : html`<span class="j-key">${JSON.stringify(name)}</span><span class="j-punct">: </span>`;
  if (value === null || typeof value !== 'object') {
    return html`<div class="j-line">${key}<${Scalar} value=${value} /><span class="j-punct">${comma}</span></div>`;
  }
  const isArray = Array.isArray(value);
  const entries = isArray ? value.map((v, i) => [undefined, v, i]) : Object.entries(value).map(([k, v], i) => [k, v, i]);
  const [openMark, closeMark] = isArray ? ['[', ']'] : ['{', '}'];
  if (entries.length === 0) return html`<div class="j-line">${key}<span class="j-punct">${openMark}${closeMark}${comma}</span></div>`;
  const toggle = html`<button type="button" class="j-toggle" aria-expanded=${open} title=${open ? 'fold' : 'unfold'} onClick=${() => setOpen(!open)}>${open ? '▾' : '▸'}</button>`;
  if (!open) {
    const count = `${entries.length} ${isArray ? (entries.length === 1 ? 'item' : 'items') : entries.length === 1 ? 'key' : 'keys'}`;
    return html`<div class="j-line">
      ${toggle}${key}<span class="j-punct">${openMark}</span><button type="button" class="j-folded" onClick=${() => setOpen(true)}>${count}</button><span class="j-punct">${closeMark}${comma}</span>
    </div>`;
  }
  const shown = entries.slice(0, CHILDREN_MAX);
  return html`<div class="j-block">
    <div class="j-line">${toggle}${key}<span class="j-punct">${openMark}</span></div>
    <div class="j-children">
      ${shown.map(([k, v, i]) => html`<${JsonNode} key=${i} name=${k} value=${v} depth=${depth + 1} last=${i === entries.length - 1} />`)}
      ${entries.length > shown.length ? html`<div class="j-line muted">[… ${entries.length - shown.length} more]</div>` : null}
    </div>
    <div class="j-line"><span class="j-punct">${closeMark}${comma}</span></div>
  </div>`;
}

export function JsonTree({ value }) {
  return html`<div class="json-tree" data-testid="json-tree"><${JsonNode} value=${value} depth=${0} last=${true} /></div>`;
}

function clipped(text) {
  return text.length > TEXT_MAX_CHARS ? `${text.slice(0, TEXT_MAX_CHARS)}\n[… ${text.length - TEXT_MAX_CHARS} characters more: download the body]` : text;
}

/** What a body is: `{text, json}`; `text` null for binary, `json` undefined when not JSON. */
export function classify(data) {
  const text = utf8Text(data);
  const json = text !== null && data.length <= TREE_MAX_BYTES ? parseJson(text) : undefined;
  return { text, json };
}

/**
 * A body with its views: Pretty (JSON tree; text as text), Raw (the bytes as UTF-8 text) and Hex,
 * and a download of the exact bytes. `data` is a Uint8Array.
 */
export function BodyView({ data, downloadHref, label = 'body' }) {
  const kind = useMemo(() => classify(data), [data]);
  const views = kind.text === null ? ['hex'] : kind.json !== undefined ? ['pretty', 'raw', 'hex'] : ['text', 'hex'];
  const [chosen, setView] = useState(views[0]);
  const view = views.includes(chosen) ? chosen : views[0];
  const names = { pretty: 'Pretty', raw: 'Raw', text: 'Text', hex: 'Hex' };
  const tabs = html`<div class="tabs" role="tablist">
    ${views.map((v) => html`<button type="button" role="tab" class=${v === view ? 'tab on' : 'tab'} aria-selected=${v === view} data-view=${v} onClick=${() => setView(v)}>${names[v]}</button>`)}
    <span class="grow"></span>
    <span class="muted">${bytes(data.length)}${kind.text === null && data.length > 0 ? ' · binary' : ''}</span>
    ${downloadHref ? html`<a class="button small" href=${downloadHref} download>Download ${label}</a>` : null}
  </div>`;
  let content;
  if (data.length === 0) content = html`<p class="muted">(empty ${label})</p>`;
  else if (view === 'pretty') content = html`<${JsonTree} value=${kind.json} />`;
  else if (view === 'hex') {
    const lines = hexLines(data, HEX_MAX_BYTES);
    if (data.length > HEX_MAX_BYTES) lines.push(`[… ${data.length - HEX_MAX_BYTES} bytes more: download the ${label}]`);
    content = html`<pre class="code hex" data-testid="hex">${lines.join('\n')}</pre>`;
  } else content = html`<pre class="code" data-testid="raw">${clipped(kind.text)}</pre>`;
  return html`<div class="body-view">${tabs}${content}</div>`;
}

/** The edited text against the original, line by line. */
export function DiffView({ before, after }) {
  const diff = useMemo(() => lineDiff(before, after), [before, after]);
  if (diff === null) return html`<p class="muted">Too large to diff here.</p>`;
  const changed = diff.filter((line) => line.op !== ' ').length;
  if (changed === 0) return html`<p class="muted" data-testid="diff-empty">No changes: the body goes out exactly as captured.</p>`;
  return html`<pre class="code diff" data-testid="diff">
${diff.map((line, i) => html`<div key=${i} class=${line.op === '+' ? 'add' : line.op === '-' ? 'del' : 'same'}>${line.op} ${line.text}</div>`)}</pre>`;
}
