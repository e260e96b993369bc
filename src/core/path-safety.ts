/**
 * What keeps a captured sub-path below the forward target's base path (issue 5, "nothing leaked").
 *
 * The capture server appends the path below the token to `--forward-to` (and `--route` targets,
 * and replays of stored events). A sub-path that a server on the way could read as "go up" would
 * leave that base path: `/TOKEN/../../admin/delete` would reach `http://handler/admin/delete`.
 * WHATWG `new URL()` and its `pathname` setter remove `..`, `.`, `%2e%2e`, `.%2E` … and read `\` as
 * `/`; proxies and frameworks decode `%2f` and `%5c`, fold `//`, cut `;params` (Tomcat's `..;/`) and
 * sometimes decode twice. None of that is ever needed by a webhook path, so such a path is refused,
 * never rewritten: rewriting would forward a request the sender did not make.
 */

/** Percent-decoding rounds applied before looking for dot segments (`%252e` → `%2e` → `.`). */
const DECODE_ROUNDS = 3;

function decodeOnce(text: string): string {
  // Byte-wise (latin1) decoding is enough to see dots and slashes, and cannot throw on bad UTF-8.
  return text.replace(/%([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/**
 * Why `subPath` (the captured path below the token, without the query) could climb out of the base
 * path it is appended to, or null when it cannot. Refused: a `.` or `..` segment in any spelling
 * (`%2e`, `%2E%2e`, `.%2e`, double-encoded, with `;params`), a backslash (`\`, `%5c`), an encoded
 * slash (`%2f`), an empty segment (`//`; one trailing `/` is fine) and a path not starting with `/`.
 */
export function unsafePathReason(subPath: string): string | null {
  if (subPath === '' || subPath === '/') return null;
  if (!subPath.startsWith('/')) return 'does not start with "/"';
  if (subPath.includes('\\')) return 'contains a backslash';
  const segments = subPath.slice(1).split('/');
  for (const [index, raw] of segments.entries()) {
    if (raw === '') {
      if (index === segments.length - 1) continue;
      return 'contains an empty segment ("//")';
    }
    let decoded = raw;
    for (let round = 0; round < DECODE_ROUNDS; round++) {
      const next = decodeOnce(decoded);
      if (next === decoded) break;
      decoded = next;
    }
    if (decoded.includes('/')) return 'contains an encoded slash';
    if (decoded.includes('\\')) return 'contains an encoded backslash';
    const name = decoded.split(';')[0]!;
    if (name === '.' || name === '..') return `contains a dot segment ("${raw}")`;
  }
  return null;
}
