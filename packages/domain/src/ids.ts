/**
 * Deterministic ids. An output's ids are a hash of the causing event's id and the
 * output's role, so reprocessing an input yields byte-identical outputs and consumers
 * de-duplicate them by eventId. No node:crypto: the domain core does no I/O and these
 * ids need to be unique and stable, not secret.
 */

/** Character codes of the hex digits; one flat string from 36 codes beats concatenating pieces. */
const C: readonly number[] = [48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 97, 98, 99, 100, 101, 102];

function hex(n: number, shift: number): number {
  return C[(n >>> shift) & 15]!;
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

// Lanes of the last hash; module scope so that hashing allocates nothing.
let l1 = 0;
let l2 = 0;
let l3 = 0;
let l4 = 0;

function absorb(text: string): void {
  const n = text.length;
  let i = 0;
  // Four UTF-16 code units per step, as two 32-bit words, each word feeding two lanes and
  // the lanes crossing over, quarter the multiplications per character.
  for (; i + 3 < n; i += 4) {
    const w = text.charCodeAt(i) | (text.charCodeAt(i + 1) << 16);
    const v = text.charCodeAt(i + 2) | (text.charCodeAt(i + 3) << 16);
    l1 = Math.imul(l1 ^ w, 0x01000193) ^ (l4 >>> 17);
    l2 = Math.imul(l2 ^ v, 0x5bd1e995) ^ (l1 >>> 15);
    l3 = Math.imul(l3 ^ v, 0x27d4eb2d) ^ (l2 >>> 13);
    l4 = Math.imul(l4 ^ w, 0x165667b1) ^ (l3 >>> 16);
  }
  for (; i < n; i++) {
    const c = text.charCodeAt(i);
    l1 = Math.imul(l1 ^ c, 0x01000193);
    l3 = Math.imul(l3 ^ c, 0x27d4eb2d);
  }
  // The length also separates the inputs: (ab, c) and (a, bc) hash apart.
  l1 = Math.imul(l1 ^ n, 0x01000193);
  l2 = Math.imul(l2 ^ n ^ 0x2_0000, 0x5bd1e995) ^ (l1 >>> 15);
  l3 = Math.imul(l3 ^ n, 0x27d4eb2d) ^ (l2 >>> 13);
  l4 = Math.imul(l4 ^ n ^ 0x2_0000, 0x165667b1) ^ (l3 >>> 16);
}

// The lanes after absorbing the last first input: one cause gives rise to several outputs in a row.
let lastA: string | null = null;
let a1 = 0;
let a2 = 0;
let a3 = 0;
let a4 = 0;

// Roles are a small fixed set ('decision', 'task:RETENTION_CALL', ...): their hashes are cached.
const roleHashes = new Map<string, number>();
const ROLE_CACHE_LIMIT = 4096;

function roleHash(role: string): number {
  let h = roleHashes.get(role);
  if (h === undefined) {
    h = hash53(role);
    if (roleHashes.size >= ROLE_CACHE_LIMIT) roleHashes.clear();
    roleHashes.set(role, h);
  }
  return h;
}

/** Hashes `a` into four lanes (cached for a run of calls with the same `a`), then mixes in the 53-bit hash of `b`. */
function hashPair(a: string, b: string): void {
  if (a !== lastA) {
    l1 = 0x811c9dc5;
    l2 = 0x9747b28c;
    l3 = 0x12345679;
    l4 = 0xdeadbeef;
    absorb(a);
    lastA = a;
    a1 = l1;
    a2 = l2;
    a3 = l3;
    a4 = l4;
  }
  const r = roleHash(b);
  const lo = r | 0;
  const hi = (r / 4_294_967_296) | 0;
  l1 = Math.imul(a1 ^ lo, 0x01000193) ^ hi;
  l2 = Math.imul(a2 ^ hi, 0x5bd1e995) ^ lo;
  l3 = Math.imul(a3 ^ lo ^ 0x9e3779b9, 0x27d4eb2d) ^ hi;
  l4 = Math.imul(a4 ^ hi ^ 0x7f4a7c15, 0x165667b1) ^ lo;
}

/** The lanes, mixed with `salt`, as an RFC 4122-shaped UUID: version nibble 8 (custom), RFC variant. */
function format(salt: number): string {
  const h1 = fmix32(l1 ^ salt ^ l3);
  const h2 = fmix32(l2 ^ h1);
  const h3 = fmix32(l3 ^ h2 ^ salt);
  const h4 = fmix32(l4 ^ h3);
  const v = (h2 & 0xffff0fff) | 0x8000; // version nibble 8
  const r = ((h3 & 0x3fffffff) | 0x80000000) >>> 0; // variant 10xx
  return String.fromCharCode(
    hex(h1, 28),
    hex(h1, 24),
    hex(h1, 20),
    hex(h1, 16),
    hex(h1, 12),
    hex(h1, 8),
    hex(h1, 4),
    hex(h1, 0),
    45,
    hex(v, 28),
    hex(v, 24),
    hex(v, 20),
    hex(v, 16),
    45,
    hex(v, 12),
    hex(v, 8),
    hex(v, 4),
    hex(v, 0),
    45,
    hex(r, 28),
    hex(r, 24),
    hex(r, 20),
    hex(r, 16),
    45,
    hex(r, 12),
    hex(r, 8),
    hex(r, 4),
    hex(r, 0),
    hex(h4, 28),
    hex(h4, 24),
    hex(h4, 20),
    hex(h4, 16),
    hex(h4, 12),
    hex(h4, 8),
    hex(h4, 4),
    hex(h4, 0),
  );
}

/**
 * A hash of `a` (four independent 32-bit FNV-1a/murmur-style lanes, 128 bits) combined
 * with a 53-bit hash of `b` (the output's role), formatted as an RFC 4122-shaped UUID with
 * version nibble 8 (custom) and the RFC variant. `a` is the long, varying part (an event
 * id); `b` should come from a small set of roles, whose hashes are cached.
 */
export function deriveId(a: string, b: string): string {
  hashPair(a, b);
  return format(0);
}

/**
 * Two ids from one hash of `a` and `b`: a business id (taskId, alertId, ...) and the id
 * of the event that carries it. The event id is the business id with version nibble 9
 * instead of 8, so the two can never collide with each other or with any other id, and
 * the second costs a slice instead of a hash.
 */
export function deriveIdAndEventId(a: string, b: string): { id: string; eventId: string } {
  hashPair(a, b);
  const id = format(0);
  return { id, eventId: eventIdOf(id) };
}

/** The id of the event that carries the entity `id` (a derived id with version nibble 8). */
export function eventIdOf(id: string): string {
  return `${id.slice(0, 14)}9${id.slice(15)}`;
}

/**
 * Further ids that belong to the entity `id` (a derived id with version nibble 8): the
 * same id with version nibble `a` or `b`, so they collide with no derived id, no event
 * id and each other, for the cost of a slice.
 */
export function companionIdOf(id: string, which: 'a' | 'b'): string {
  return `${id.slice(0, 14)}${which}${id.slice(15)}`;
}

/**
 * A 53-bit hash of a string, exact in a JavaScript number (cyrb53). States keep these
 * instead of the strings they stand for (invoice ids, survey ids) to stay compact.
 */
export function hash53(text: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}
