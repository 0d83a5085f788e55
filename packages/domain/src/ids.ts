/**
 * Deterministic ids. An output's ids are a hash of the causing event's id and the
 * output's role, so reprocessing an input yields byte-identical outputs and consumers
 * de-duplicate them by eventId. No node:crypto: the domain core does no I/O and these
 * ids need to be unique and stable, not secret.
 */

const HEX: string[] = [];
for (let i = 0; i < 256; i++) HEX.push(i.toString(16).padStart(2, '0'));

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function hex32(h: number): string {
  return HEX[(h >>> 24) & 0xff]! + HEX[(h >>> 16) & 0xff]! + HEX[(h >>> 8) & 0xff]! + HEX[h & 0xff]!;
}

/**
 * A 128-bit hash of `a` and `b` (four independent 32-bit FNV-1a/murmur-style lanes),
 * formatted as an RFC 4122-shaped UUID with version nibble 8 (custom) and the RFC variant.
 */
export function deriveId(a: string, b: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x9747b28c;
  let h3 = 0x12345679;
  let h4 = 0xdeadbeef;
  const total = a.length + 1 + b.length;
  for (let i = 0; i < total; i++) {
    // A separator that cannot be confused with any character of the inputs keeps (ab, c) and (a, bc) apart.
    const c = i < a.length ? a.charCodeAt(i) : i === a.length ? 0x1_0000 : b.charCodeAt(i - a.length - 1);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    h3 = Math.imul(h3 ^ c, 0x27d4eb2d);
    h4 = Math.imul(h4 ^ c, 0x165667b1);
    h2 ^= h2 >>> 15;
    h4 ^= h4 >>> 13;
  }
  h1 = fmix32(h1 ^ total ^ h3);
  h2 = fmix32(h2 ^ h1);
  h3 = fmix32(h3 ^ h2);
  h4 = fmix32(h4 ^ h3);
  const s2 = (h2 & 0xffff0fff) | 0x00008000; // version nibble 8
  const s3 = ((h3 & 0x3fffffff) | 0x80000000) >>> 0; // variant 10xx
  const x2 = hex32(s2 >>> 0);
  const x3 = hex32(s3);
  return `${hex32(h1)}-${x2.slice(0, 4)}-${x2.slice(4)}-${x3.slice(0, 4)}-${x3.slice(4)}${hex32(h4)}`;
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
