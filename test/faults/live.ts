/**
 * A live input: the records are produced at a steady rate across the scenario's fault
 * schedule instead of up front, so that every fault lands while the input is still
 * arriving. The rate is the records left over the schedule's expected time left: the
 * steps left times what a step took so far (a guess before the first). The last records
 * wait for the schedule's end, so production never ends before the last fault; what is
 * left then goes at once (`afterSchedule` says how much that was).
 */

/** What a live production did: when it ran, how fast, and how long it was held back. */
export interface LiveReport {
  records: number;
  /** ms from the first record to the last. */
  spanMs: number;
  /** ms from the first record to the end of the fault schedule. */
  scheduleMs: number | null;
  recordsPerSecond: number;
  /** Longest time in ms production waited, all but the last records produced, for the schedule's end. */
  heldBackMs: number;
  /** Records produced after the schedule's end. */
  afterSchedule: number;
}

export class LivePace {
  readonly #total: number;
  readonly #stepGuessMs: number;
  readonly #minMs: number;
  /** Records kept back until the schedule is done. */
  readonly #reserve: number;
  #started = 0;
  #last = 0;
  #allowance = 0;
  #steps = { done: 0, of: 0, lastAt: 0 };
  #scheduleEnd: number | null = null;
  #heldSince: number | null = null;
  #heldBackMs = 0;
  #produced = 0;
  #producedInSchedule = 0;
  #finishedAt: number | null = null;

  /**
   * `stepGuessMs`: what a step of the schedule is expected to take before any is done;
   * `minMs`: the least time production spans (a schedule without faults still has one).
   */
  constructor(total: number, stepGuessMs: number, minMs: number) {
    this.#total = total;
    this.#stepGuessMs = stepGuessMs;
    this.#minMs = minMs;
    this.#reserve = Math.min(total, Math.max(1, Math.ceil(total * 0.005)));
  }

  start(now: number, steps: number): void {
    this.#started = now;
    this.#last = now;
    this.#steps = { done: 0, of: steps, lastAt: now };
  }

  /** A step of the schedule is done. */
  step(done: number, of: number, now: number): void {
    this.#steps = { done, of, lastAt: now };
  }

  scheduleDone(now: number): void {
    this.#scheduleEnd = now;
  }

  produced(count: number, now: number): void {
    if (this.#scheduleEnd === null) this.#producedInSchedule = count;
    this.#produced = count;
    if (count >= this.#total) this.#finishedAt = now;
  }

  /** Whether records are still to be produced. */
  get producing(): boolean {
    return this.#produced < this.#total;
  }

  /**
   * When the schedule is expected to end: the steps left, the one under way counted
   * whole from now, so that a step that takes long (a broker that is slow to come back)
   * slows production down rather than letting it run out before the schedule does.
   */
  #expectedEnd(now: number): number {
    const { done, of, lastAt } = this.#steps;
    const perStep = done === 0 ? this.#stepGuessMs : (lastAt - this.#started) / done;
    return Math.max(this.#started + this.#minMs, now + Math.max(0, of - done) * perStep);
  }

  /** How many records may be on the topics by `now`. */
  allowed(now: number): number {
    if (this.#scheduleEnd !== null && now >= this.#expectedEnd(now)) return this.#total;
    const left = this.#total - this.#allowance;
    const rate = left / Math.max(1000, this.#expectedEnd(now) - now);
    this.#allowance = Math.min(this.#total, this.#allowance + rate * (now - this.#last));
    this.#last = now;
    const cap = this.#scheduleEnd === null ? this.#total - this.#reserve : this.#total;
    const allowed = Math.min(Math.floor(this.#allowance), cap);
    if (this.#allowance >= cap && this.#produced >= cap && this.#scheduleEnd === null) {
      this.#heldSince ??= now;
      this.#heldBackMs = Math.max(this.#heldBackMs, now - this.#heldSince);
    } else this.#heldSince = null;
    return allowed;
  }

  report(): LiveReport {
    const span = (this.#finishedAt ?? Date.now()) - this.#started;
    return {
      records: this.#produced,
      spanMs: span,
      scheduleMs: this.#scheduleEnd === null ? null : this.#scheduleEnd - this.#started,
      recordsPerSecond: Math.round((this.#produced / Math.max(1, span)) * 1000),
      heldBackMs: this.#heldBackMs,
      afterSchedule: this.#scheduleEnd === null ? 0 : this.#produced - this.#producedInSchedule,
    };
  }
}
