/**
 * Calendar arithmetic on epoch milliseconds in UTC, without Date objects: the hot paths
 * turn times into months and readable text millions of times a second.
 */

export const DAY_MS = 86_400_000;
export const HOUR_MS = 3_600_000;

// Civil date from days since the epoch (H. Hinnant's algorithm), in module-level scratch.
let year = 1970;
let month = 1;
let day = 1;

function civil(at: number): void {
  const z = Math.floor(at / DAY_MS) + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  month = mp < 10 ? mp + 3 : mp - 9;
  year = yoe + era * 400 + (month <= 2 ? 1 : 0);
}

// A direct-mapped cache of day -> month: streams ask about the same few days again and again.
const CACHE_SLOTS = 1024;
const cachedDay = new Float64Array(CACHE_SLOTS).fill(Number.NaN);
const cachedMonth = new Int32Array(CACHE_SLOTS);

/** Months since year 0 (year x 12 + month - 1) of a time, in UTC. */
export function monthIndex(at: number): number {
  const days = Math.floor(at / DAY_MS);
  const slot = days & (CACHE_SLOTS - 1);
  if (cachedDay[slot] === days) return cachedMonth[slot]!;
  civil(at);
  const index = year * 12 + month - 1;
  cachedDay[slot] = days;
  cachedMonth[slot] = index;
  return index;
}

const TWO: string[] = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));

/** A time as an agent reads it: `2026-01-16 09:00 UTC`. */
export function formatTime(at: number): string {
  civil(at);
  const inDay = at - Math.floor(at / DAY_MS) * DAY_MS;
  const hours = Math.floor(inDay / HOUR_MS);
  const minutes = Math.floor((inDay - hours * HOUR_MS) / 60_000);
  return `${year}-${TWO[month]}-${TWO[day]} ${TWO[hours]}:${TWO[minutes]} UTC`;
}

function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** `at` plus `n` calendar months, in UTC, the day clamped to the target month's length (31 Jan + 1 month = 28 Feb). */
export function addMonths(at: number, n: number): number {
  civil(at);
  const total = year * 12 + (month - 1) + n;
  const y = Math.floor(total / 12);
  const m = total - y * 12 + 1;
  const leap = m === 2 && y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 1 : 0;
  const d = Math.min(day, MONTH_DAYS[m - 1]! + leap);
  const timeOfDay = at - Math.floor(at / DAY_MS) * DAY_MS;
  return daysFromCivil(y, m, d) * DAY_MS + timeOfDay;
}

/** The first instant (midnight UTC of the 1st) of the calendar month after the one `at` falls in. */
export function startOfNextMonth(at: number): number {
  civil(at);
  const total = year * 12 + month;
  const y = Math.floor(total / 12);
  return daysFromCivil(y, total - y * 12 + 1, 1) * DAY_MS;
}
