import { spawn } from 'node:child_process';
import { request } from 'undici';
import { startJsonListener, type JsonListener } from './cli.js';
import type { RecordedRequest } from './recording-handler.js';

/** Posts exact bytes with exact headers (in order, duplicates kept) to a URL; resolves with the status. */
export async function post(url: string, body: Buffer, headers: string[] = ['content-type', 'application/json'], method = 'POST'): Promise<number> {
  const response = await request(url, { method: method as 'POST', headers, body: body.length > 0 ? body : null });
  await response.body.dump();
  return response.statusCode;
}

export interface RunningListener {
  listener: JsonListener;
  /** The local capture URL, token included. */
  captureUrl: string;
  env: NodeJS.ProcessEnv;
}

/** `listen --json --no-tunnel` on a store of its own (MFTG_HOOKS_HOME=home), ready to capture. */
export async function startListener(home: string, args: string[]): Promise<RunningListener> {
  const env = { MFTG_HOOKS_HOME: home };
  const listener = startJsonListener(['--no-tunnel', ...args], env);
  const ready = await listener.waitForRecord((r) => r.type === 'ready', 'ready');
  return { listener, captureUrl: String(ready.localUrl), env };
}

/** Waits for `count` events captured by the listener itself and returns their ids in arrival order. */
export async function capturedIds(listener: JsonListener, count: number): Promise<string[]> {
  await listener.waitForRecord(() => listener.records.filter((r) => r.type === 'event' && r.foreign === false).length >= count, `${count} events`);
  return listener.records.filter((r) => r.type === 'event' && r.foreign === false).map((r) => String(r.id));
}

/** The attempt records the listener printed for one event. */
export function attemptsOf(listener: JsonListener, eventId: string): Array<Record<string, unknown>> {
  return listener.records.filter((r) => r.type === 'attempt' && r.eventId === eventId);
}

/** Header pairs of a recorded request, optionally without some (lower-case) names. */
export function headerPairs(req: RecordedRequest, without: string[] = []): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    if (!without.includes(req.rawHeaders[i]!.toLowerCase())) pairs.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]);
  }
  return pairs;
}

/** Runs a script with `sh` (a POSIX shell), as a user pasting it would; killed after `timeoutMs`. */
export function runShell(command: string, env: NodeJS.ProcessEnv = {}, timeoutMs = 10_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // The script goes in on stdin: a command line of a large body is longer than one argv string may be.
    const child = spawn('sh', ['-s'], { env: { ...process.env, http_proxy: '', https_proxy: '', HTTP_PROXY: '', HTTPS_PROXY: '', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin.end(command + '\n');
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Splits `events export --format curl` output into its commands (blocks after `# id` comments). */
export function curlCommands(output: string): Array<{ id: string; command: string }> {
  return output
    .split(/\n\n(?=# )|\n\n$/)
    .filter((block) => block.startsWith('# '))
    .map((block) => {
      const newline = block.indexOf('\n');
      return { id: block.slice(2, newline).split(/\s+/)[0]!, command: block.slice(newline + 1) };
    });
}

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * Checks a document against HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/): every
 * required field of log, creator, entries, request, response, content, cache and timings, with its
 * type. Returns the problems found (empty when valid).
 */
export function harProblems(har: unknown): string[] {
  const problems: string[] = [];
  const need = (ok: boolean, what: string): void => {
    if (!ok) problems.push(what);
  };
  const nameValues = (list: unknown, where: string): void => {
    need(Array.isArray(list), `${where} is an array`);
    if (Array.isArray(list)) list.forEach((item, i) => need(isObject(item) && typeof item.name === 'string' && typeof item.value === 'string', `${where}[${i}] has string name and value`));
  };
  if (!isObject(har) || !isObject(har.log)) return ['log object'];
  const log = har.log;
  need(log.version === '1.2', 'log.version is "1.2"');
  need(isObject(log.creator) && typeof log.creator.name === 'string' && typeof log.creator.version === 'string', 'log.creator has name and version');
  need(Array.isArray(log.entries), 'log.entries is an array');
  if (!Array.isArray(log.entries)) return problems;
  log.entries.forEach((entry: unknown, i: number) => {
    const at = `entries[${i}]`;
    if (!isObject(entry)) return need(false, `${at} is an object`);
    need(typeof entry.startedDateTime === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(entry.startedDateTime), `${at}.startedDateTime is ISO 8601 with a zone`);
    need(typeof entry.time === 'number' && entry.time >= 0, `${at}.time is a number ≥ 0`);
    need(isObject(entry.cache), `${at}.cache is an object`);
    const req = entry.request;
    if (!isObject(req)) need(false, `${at}.request is an object`);
    else {
      need(typeof req.method === 'string', `${at}.request.method`);
      need(typeof req.url === 'string' && URL.canParse(req.url), `${at}.request.url is an absolute URL`);
      need(typeof req.httpVersion === 'string', `${at}.request.httpVersion`);
      nameValues(req.cookies, `${at}.request.cookies`);
      nameValues(req.headers, `${at}.request.headers`);
      nameValues(req.queryString, `${at}.request.queryString`);
      need(typeof req.headersSize === 'number', `${at}.request.headersSize`);
      need(typeof req.bodySize === 'number', `${at}.request.bodySize`);
      if (req.postData !== undefined) {
        need(isObject(req.postData) && typeof req.postData.mimeType === 'string', `${at}.request.postData.mimeType`);
        need(isObject(req.postData) && (typeof req.postData.text === 'string' || Array.isArray(req.postData.params)), `${at}.request.postData has text or params`);
      }
    }
    const res = entry.response;
    if (!isObject(res)) need(false, `${at}.response is an object`);
    else {
      need(typeof res.status === 'number', `${at}.response.status`);
      need(typeof res.statusText === 'string', `${at}.response.statusText`);
      need(typeof res.httpVersion === 'string', `${at}.response.httpVersion`);
      nameValues(res.cookies, `${at}.response.cookies`);
      nameValues(res.headers, `${at}.response.headers`);
      need(isObject(res.content) && typeof res.content.size === 'number' && typeof res.content.mimeType === 'string', `${at}.response.content has size and mimeType`);
      need(typeof res.redirectURL === 'string', `${at}.response.redirectURL`);
      need(typeof res.headersSize === 'number', `${at}.response.headersSize`);
      need(typeof res.bodySize === 'number', `${at}.response.bodySize`);
    }
    const t = entry.timings;
    if (!isObject(t)) need(false, `${at}.timings is an object`);
    else {
      for (const key of ['send', 'wait', 'receive']) need(typeof t[key] === 'number' && (t[key] as number) >= 0, `${at}.timings.${key} is a number ≥ 0`);
      for (const key of ['blocked', 'dns', 'connect', 'ssl'])
        need(t[key] === undefined || (typeof t[key] === 'number' && ((t[key] as number) >= 0 || t[key] === -1)), `${at}.timings.${key} is ≥ 0 or -1`);
      const sum = ['blocked', 'dns', 'connect', 'send', 'wait', 'receive'].reduce((total, key) => total + (typeof t[key] === 'number' && (t[key] as number) > 0 ? (t[key] as number) : 0), 0);
      need(typeof entry.time === 'number' && Math.abs(entry.time - sum) < 0.001, `${at}.time is the sum of its timings`);
    }
    for (const key of Object.keys(entry)) {
      need(
        ['startedDateTime', 'time', 'request', 'response', 'cache', 'timings', 'serverIPAddress', 'connection', 'comment', 'pageref'].includes(key) || key.startsWith('_'),
        `${at}.${key} is a HAR field or starts with _`,
      );
    }
  });
  return problems;
}
