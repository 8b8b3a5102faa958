/**
 * How Baton rounds the figures it journals and reports, so that the same amount is written the
 * same way everywhere (and sums carry no binary floating-point noise such as 0.30000000000000004).
 */

/** A US-dollar amount to 8 decimals: a millionth of a cent. Costs in the journal and in reports. */
export function roundUsd(usd: number): number {
  return Math.round(usd * 1e8) / 1e8;
}

/** A score in [-1, 1] (a similarity, a weighted ranking score, a threshold) to 6 decimals. */
export function roundScore(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
