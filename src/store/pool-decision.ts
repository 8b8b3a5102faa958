import type { PoolLimits, PoolRefusal } from './pool-store.ts';

/**
 * The rules of the `pools` capability, shared by every backend: given what the store holds for a
 * pool (read inside the transaction that will write the outcome), decide whether a request is
 * granted, and if not, its place and when to come back. A backend reads the snapshot, calls
 * {@link decideAcquire}, and writes what it says; so SQLite and PostgreSQL decide alike.
 */

/** A waiter not back within this long after the time it was told loses its place. */
export const WAITER_GRACE_MS = 3000;
/**
 * A waiter holds back those behind it from the time it was told until this long after: room that
 * frees while it is late goes to whoever is there (it keeps its place for when it is back).
 */
export const PRESENT_MS = 250;
/** At most this many parked waiters are woken by one call. */
export const WAKE_BATCH = 8;
/** The longest a waiter is told to stay away while slots are full (a release wakes it sooner). */
export const MAX_SLOT_WAIT_MS = 30_000;
/** Weight of the newest hold time in the pool's moving average. */
export const HOLD_AVERAGE_WEIGHT = 0.2;

export interface PoolWaiter {
  holder: string;
  runId: string | undefined;
  tenant: string;
  priority: number;
  tokens: number;
  reason: string;
  /** When it first waited: its place in the queue. */
  since: number;
  /** When it was told to come back. */
  retryAt: number;
}

/** A lease counting in the windows, for the time the window lets go of it. */
export interface WindowEntry {
  tokens: number;
  acquiredAt: number;
  /** Undefined while held. */
  releasedAt: number | undefined;
  countedUntil: number;
  windowMs: number;
}

export interface PoolSnapshot {
  now: number;
  limits: PoolLimits;
  /** The request. */
  holder: string;
  runId: string | undefined;
  tenant: string;
  priority: number;
  tokens: number;
  /** Leases held now (not released, not expired), and when the youngest of them was granted. */
  held: number;
  youngestHeldAt: number | undefined;
  /** What counts in the windows now (rows whose counted_until > now). */
  windowRequests: number;
  windowTokens: number;
  pausedUntil: number;
  averageHoldMs: number;
  /** The pool's live waiters (expires_at > now), this holder's own row included if it has one. */
  waiters: readonly PoolWaiter[];
  /** The leases counting in the windows; read only when a refusal needs an exact time. */
  windowEntries: () => readonly WindowEntry[];
}

export type AcquireDecision =
  | {
      granted: true;
      waitedMs: number;
      /** The window this lease counts for: more than one when its tokens exceed a window's. */
      windowMs: number;
      /** Whether the holder had a waiter row (to delete). */
      wasWaiting: boolean;
      /** Parked waiters to wake now (their runs), in order: room the present waiters leave. */
      wake: readonly PoolWaiter[];
    }
  | {
      granted: false;
      reason: PoolRefusal;
      retryAfterMs: number;
      position: number;
      waitedMs: number;
      /** The waiter row to write (insert or update). */
      waiter: PoolWaiter & { expiresAt: number };
    };

/** Present: due back by now, and not more than PRESENT_MS late. */
export function isPresent(waiter: PoolWaiter, now: number): boolean {
  return waiter.retryAt <= now && now < waiter.retryAt + PRESENT_MS;
}

export function decideAcquire(snapshot: PoolSnapshot): AcquireDecision {
  const { now, limits, holder } = snapshot;
  const existing = snapshot.waiters.find((waiter) => waiter.holder === holder);
  const me: PoolWaiter = {
    holder,
    runId: snapshot.runId,
    tenant: snapshot.tenant,
    priority: snapshot.priority,
    tokens: snapshot.tokens,
    reason: existing?.reason ?? 'concurrency',
    since: existing?.since ?? now,
    retryAt: now,
  };
  const others = snapshot.waiters.filter((waiter) => waiter !== existing);
  const queue = queueOrder([...others, me]);
  const index = queue.indexOf(me);
  const ahead = queue.slice(0, index);
  const present = ahead.filter((waiter) => isPresent(waiter, now));
  const presentTokens = present.reduce((sum, waiter) => sum + waiter.tokens, 0);

  const slotsFree = limits.concurrency === undefined ? Infinity : limits.concurrency - snapshot.held;
  const requestsFree = limits.requests === undefined ? Infinity : limits.requests - snapshot.windowRequests;
  const tokensFree =
    limits.tokens === undefined ? Infinity : limits.tokens - snapshot.windowTokens - presentTokens;
  const tokensFit = tokensFree >= snapshot.tokens || (snapshot.windowTokens === 0 && present.length === 0);
  const paused = snapshot.pausedUntil > now;

  if (!paused && present.length < Math.min(slotsFree, requestsFree) && tokensFit) {
    const windows = limits.tokens === undefined ? 1 : Math.max(1, Math.ceil(snapshot.tokens / limits.tokens));
    // Room left after this grant that the waiters present will not take: parked waiters get it.
    let room = Math.min(
      slotsFree - 1,
      requestsFree - 1,
      limits.tokens === undefined || tokensFree - snapshot.tokens > 0 ? WAKE_BATCH : 0,
      WAKE_BATCH,
    );
    room -= others.filter((waiter) => isPresent(waiter, now)).length;
    return {
      granted: true,
      waitedMs: now - me.since,
      windowMs: limits.windowMs * windows,
      wasWaiting: existing !== undefined,
      wake: room > 0 ? wakeable(queueOrder(others), now).slice(0, room) : [],
    };
  }

  // Refused: when could it be this holder's turn? Each binding limit gives a time; the latest wins.
  const position = index + 1;
  const refusals: { reason: PoolRefusal; afterMs: number }[] = [];
  if (paused) refusals.push({ reason: 'paused', afterMs: snapshot.pausedUntil - now });
  if (position > slotsFree) {
    const youngestAgeMs = snapshot.youngestHeldAt === undefined ? 0 : now - snapshot.youngestHeldAt;
    const holdMs = Math.max(snapshot.averageHoldMs, youngestAgeMs, 1);
    const releasesNeeded = position - Math.max(slotsFree, 0);
    const afterMs = Math.ceil((releasesNeeded * holdMs) / limits.concurrency!);
    refusals.push({ reason: 'concurrency', afterMs: Math.min(afterMs, MAX_SLOT_WAIT_MS) });
  }
  if (position > requestsFree) {
    const needed = position - Math.max(requestsFree, 0);
    refusals.push({ reason: 'requests', afterMs: windowFrees(snapshot, needed, 'count') });
  }
  if (!tokensFit) {
    const aheadTokens = ahead.reduce((sum, waiter) => sum + waiter.tokens, 0);
    const needed = snapshot.windowTokens + aheadTokens + snapshot.tokens - limits.tokens!;
    refusals.push({ reason: 'tokens', afterMs: windowFrees(snapshot, Math.max(needed, 1), 'tokens') });
  }
  if (refusals.length === 0) {
    // There is room, but waiters ahead that are here take it first.
    refusals.push({ reason: slotsFree <= requestsFree ? 'concurrency' : 'requests', afterMs: 1 });
  }
  const binding = refusals.reduce((a, b) => (b.afterMs > a.afterMs ? b : a));
  const retryAfterMs = Math.max(1, Math.ceil(binding.afterMs));
  return {
    granted: false,
    reason: binding.reason,
    retryAfterMs,
    position,
    waitedMs: now - me.since,
    waiter: {
      ...me,
      reason: binding.reason,
      retryAt: now + retryAfterMs,
      expiresAt: now + retryAfterMs + WAITER_GRACE_MS,
    },
  };
}

/**
 * After a release: the parked waiters to wake now, in order, for the room the present waiters
 * will not take.
 */
export function wakeAfterRelease(input: {
  now: number;
  limits: PoolLimits;
  held: number;
  windowRequests: number;
  windowTokens: number;
  waiters: readonly PoolWaiter[];
}): PoolWaiter[] {
  const { now, limits } = input;
  const queue = queueOrder(input.waiters);
  const present = queue.filter((waiter) => isPresent(waiter, now)).length;
  const room =
    Math.min(
      limits.concurrency === undefined ? WAKE_BATCH : limits.concurrency - input.held,
      limits.requests === undefined ? WAKE_BATCH : limits.requests - input.windowRequests,
      limits.tokens === undefined || input.windowTokens < limits.tokens ? WAKE_BATCH : 0,
      WAKE_BATCH,
    ) - present;
  return room > 0 ? wakeable(queue, now).slice(0, room) : [];
}

/** Waiters whose run parked (they have a run and are not due back yet), in queue order. */
function wakeable(queue: readonly PoolWaiter[], now: number): PoolWaiter[] {
  return queue.filter((waiter) => waiter.runId !== undefined && waiter.retryAt > now);
}

/**
 * In how many ms the windows will have let go of `amount` requests (or tokens). A released request
 * leaves at its end plus the window; one still held is expected to end after the pool's average
 * hold time. Beyond what the window holds now, at the pool's rate.
 */
function windowFrees(snapshot: PoolSnapshot, amount: number, what: 'count' | 'tokens'): number {
  const { now, limits, averageHoldMs } = snapshot;
  const leaving = snapshot
    .windowEntries()
    .map((entry) => ({
      amount: what === 'count' ? 1 : entry.tokens,
      at:
        entry.releasedAt === undefined
          ? Math.max(now, entry.acquiredAt + averageHoldMs) + entry.windowMs
          : entry.countedUntil,
    }))
    .sort((a, b) => a.at - b.at);
  let freed = 0;
  for (const entry of leaving) {
    freed += entry.amount;
    if (freed >= amount) return entry.at - now;
  }
  const limit = what === 'count' ? limits.requests! : limits.tokens!;
  const last = leaving.length === 0 ? now : leaving[leaving.length - 1]!.at;
  return last - now + Math.ceil(((amount - freed) * (limits.windowMs + averageHoldMs)) / Math.max(limit, 1));
}

/**
 * The order waiters are served in: higher priority first; within a priority, tenants take turns
 * (each tenant's oldest waiter, then each tenant's second oldest…); then oldest first.
 */
export function queueOrder<W extends { tenant: string; priority: number; since: number; holder: string }>(
  waiters: readonly W[],
): W[] {
  const byArrival = [...waiters].sort((a, b) => a.since - b.since || compare(a.holder, b.holder));
  const turns = new Map<W, number>();
  const counts = new Map<string, number>();
  for (const waiter of byArrival) {
    const key = `${waiter.priority}\u0000${waiter.tenant}`;
    const turn = (counts.get(key) ?? 0) + 1;
    counts.set(key, turn);
    turns.set(waiter, turn);
  }
  return byArrival.sort(
    (a, b) =>
      b.priority - a.priority ||
      turns.get(a)! - turns.get(b)! ||
      a.since - b.since ||
      compare(a.holder, b.holder),
  );
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The pool's moving average of hold times after one more release. */
export function nextAverageHold(average: number, holdMs: number): number {
  return average === 0 ? holdMs : average * (1 - HOLD_AVERAGE_WEIGHT) + holdMs * HOLD_AVERAGE_WEIGHT;
}
