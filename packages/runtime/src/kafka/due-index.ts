/**
 * Days and due times of the clock step, free of Kafka: the midnight a time falls in, and
 * an index of keys by the midnight from which their clock step is due.
 */

export const DAY_MS = 86_400_000;

/** The midnight UTC at or before `time`. */
export function midnightOf(time: number): number {
  return Math.floor(time / DAY_MS) * DAY_MS;
}

/**
 * Keys by the midnight from which their clock step is due, so that a clock step visits
 * the keys due rather than every key of the partition.
 */
export class DueIndex {
  /** Keys by bucket: the first midnight at or after their due time (-Infinity: always due). */
  readonly #buckets = new Map<number, Set<string>>();
  readonly #bucketOf = new Map<string, number>();

  set(key: string, due: number): void {
    const bucket =
      due === Number.NEGATIVE_INFINITY || Number.isNaN(due)
        ? Number.NEGATIVE_INFINITY
        : Math.ceil(due / DAY_MS) * DAY_MS;
    const old = this.#bucketOf.get(key);
    if (old === bucket) return;
    if (old !== undefined) {
      const keys = this.#buckets.get(old);
      keys?.delete(key);
      if (keys?.size === 0) this.#buckets.delete(old);
      this.#bucketOf.delete(key);
    }
    if (!Number.isFinite(bucket) && bucket > 0) return; // never due
    this.#bucketOf.set(key, bucket);
    const keys = this.#buckets.get(bucket);
    if (keys) keys.add(key);
    else this.#buckets.set(bucket, new Set([key]));
  }

  /** Adds the keys due at or before `at` to `into`, except those in `except`. */
  collectDue(at: number, into: string[], except?: ReadonlyMap<string, unknown>): void {
    for (const [bucket, keys] of this.#buckets) {
      if (bucket > at) continue;
      for (const key of keys) if (!except?.has(key)) into.push(key);
    }
  }
}

/**
 * When a key's clock step is next due: never for a key without state, always
 * (-Infinity) for a topology without `dueAt`.
 */
export function dueTimeOf<S>(
  dueAt: ((key: string, state: S) => number) | undefined,
  key: string,
  state: S | undefined,
): number {
  if (state === undefined) return Number.POSITIVE_INFINITY;
  return dueAt ? dueAt(key, state) : Number.NEGATIVE_INFINITY;
}
