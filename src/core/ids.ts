// Crockford base32, lowercase: ids sort as strings in arrival order.
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const TIME_CHARS = 10;
const SEQUENCE_CHARS = 4;

let lastMs = 0;
let lastTimePart = '';
let sequence = 0;

function encode(value: number, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) {
    out = ALPHABET[value % 32] + out;
    value = Math.floor(value / 32);
  }
  return out;
}

/**
 * A new id: 10 characters of millisecond time, then a 4-character sequence that starts at a random
 * value each millisecond and counts up within it, so ids made by one process are strictly increasing
 * and two processes are very unlikely to collide.
 */
export function newId(now: number = Date.now()): string {
  if (now <= lastMs) {
    sequence++;
  } else {
    lastMs = now;
    lastTimePart = encode(now, TIME_CHARS);
    // Not a secret, only a spread between processes: Math.random costs far less than randomBytes.
    sequence = Math.floor(Math.random() * 0x8000);
  }
  return lastTimePart + encode(sequence, SEQUENCE_CHARS);
}
