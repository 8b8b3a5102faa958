import type pg from 'pg';
import {
  ClockSkewError,
  ConfigError,
  StoreFullError,
  StoreNotFoundError,
  StoreReadOnlyError,
  StoreUnavailableError,
} from '../../errors.ts';

/**
 * Where a PostgreSQL URL points, for messages: `postgres://user@host:port/database`, never the
 * password or the query string.
 */
export function describeLocation(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`Cannot read the PostgreSQL URL: expected 'postgres://user@host:5432/database'.`);
  }
  const socketHost = parsed.searchParams.get('host');
  const host = parsed.hostname || socketHost || 'localhost';
  const port = parsed.port || '5432';
  const database =
    decodeURIComponent(parsed.pathname.replace(/^\//, '')) ||
    decodeURIComponent(parsed.username) ||
    'postgres';
  const user = parsed.username ? `${decodeURIComponent(parsed.username)}@` : '';
  return `postgres://${user}${host}:${port}/${database}`;
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  // The server is shutting down, crashed, or not yet accepting connections.
  '57P01',
  '57P02',
  '57P03',
]);

/** True when the error means the connection is gone (or never came), not that the SQL was wrong. */
export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (CONNECTION_CODES.has(code) || code.startsWith('08'))) return true;
  return /Connection terminated|not queryable|timeout exceeded when trying to connect|Connection ended|connection error/i.test(
    error.message,
  );
}

/** Deadlock or serialization failure: the transaction was rolled back whole and may simply run again. */
export function isTransientConflict(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return code === '40P01' || code === '40001';
}

/**
 * Turns a connection failure into a retryable StoreUnavailableError, a read-only server or
 * transaction (SQLSTATE 25006, a hot standby) into STORE_READ_ONLY and a full disk (53100) into
 * STORE_FULL; other errors pass as they are.
 */
export function translateError(error: unknown, location: string): unknown {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (error instanceof Error && code === '25006')
    return new StoreReadOnlyError({ location, reason: error.message, cause: error });
  if (error instanceof Error && code === '53100')
    return new StoreFullError({ location, reason: error.message, cause: error });
  if (isConnectionError(error)) {
    return new StoreUnavailableError({
      location,
      reason: `the connection was lost (${(error as Error).message})`,
      cause: error,
    });
  }
  return error;
}

/**
 * Takes a client from the pool, retrying with exponential backoff (100 ms doubling to 2 s, with
 * jitter) while the server cannot be reached, for up to `timeoutMs`. Refusals that retrying cannot
 * cure (no such database, bad credentials) fail at once.
 */
export async function connectWithRetry(
  pool: pg.Pool,
  location: string,
  timeoutMs: number,
  log: (message: string, error?: unknown) => void,
): Promise<pg.PoolClient> {
  const deadline = Date.now() + timeoutMs;
  let delay = 100;
  for (let attempt = 1; ; attempt++) {
    try {
      return await pool.connect();
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code === '3D000') {
        throw new StoreNotFoundError({
          location,
          reason: 'the database does not exist',
          hint: 'Create it (createdb), or fix the store URL.',
          cause: error,
        });
      }
      if (code === '28P01' || code === '28000') {
        throw new ConfigError(
          `PostgreSQL at ${location} refused the connection: ${(error as Error).message}.`,
          { cause: error },
        );
      }
      if (!isConnectionError(error) || Date.now() + delay > deadline) {
        throw new StoreUnavailableError({
          location,
          reason: `${(error as Error).message || String(code)}. Check that the server is running and that the store URL is right`,
          attempts: attempt,
          cause: error,
        });
      }
      if (attempt === 1)
        log(`PostgreSQL at ${location} is not reachable yet (${(error as Error).message}); retrying`);
      await new Promise((resolve) => setTimeout(resolve, delay * (0.75 + Math.random() * 0.5)));
      delay = Math.min(delay * 2, 2000);
    }
  }
}

/**
 * Compares this machine's clock with the server's. Every worker writes lease expiries and wake-up
 * times from its own clock, and every other worker compares them with its own: clocks that
 * disagree by seconds steal leases early or wake timers late.
 */
export async function checkClock(
  client: pg.PoolClient,
  options: { location: string; clock: () => number; toleranceMs: number; onSkew: 'refuse' | 'warn' },
  log: (message: string, error?: unknown) => void,
): Promise<void> {
  const before = options.clock();
  const result = await client.query<{ now: number }>(
    `SELECT extract(epoch FROM clock_timestamp()) * 1000 AS now`,
  );
  const after = options.clock();
  const server = Number(result.rows[0]!.now);
  const local = (before + after) / 2;
  const uncertainty = (after - before) / 2;
  const skewMs = server - local;
  if (Math.abs(skewMs) - uncertainty <= options.toleranceMs) return;
  const error = new ClockSkewError({ location: options.location, skewMs, toleranceMs: options.toleranceMs });
  if (options.onSkew === 'refuse') throw error;
  log(error.message);
}
