import { afterEach } from 'vitest';
import { Baton, type BatonOptions } from '../../src/index.ts';
import type { JournalEvent } from '../../src/journal/events.ts';

const opened: Baton[] = [];

afterEach(async () => {
  await Promise.all(opened.splice(0).map((baton) => baton.close()));
});

/** A Baton on an in-memory store with an in-process worker, closed after the test. */
export async function openBaton(options: BatonOptions = {}): Promise<Baton> {
  const baton = await Baton.open({ store: 'sqlite::memory:', worker: { pollMs: 20 }, ...options });
  opened.push(baton);
  return baton;
}

/** The events of these types, in journal order. */
export function ofType(history: readonly JournalEvent[], ...types: string[]): JournalEvent[] {
  return history.filter((event) => types.includes(event.type));
}

/** Resolves when the run is parked waiting (for a signal, a timer). */
export async function parked(baton: Baton, runId: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if ((await baton.getRun(runId)).status === 'waiting') return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`run ${runId} never parked`);
}
