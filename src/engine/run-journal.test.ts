import { describe, expect, it } from 'vitest';
import { GENESIS_HASH, sealEvent, verifyChain } from '../journal/hash-chain.ts';
import type { JournalWrite } from '../store/store.ts';
import { RunJournal, isoTimestamp } from './run-journal.ts';
import { stepCompleted } from './context-impl.ts';

describe('isoTimestamp', () => {
  it('writes what toISOString writes, in the same millisecond, second and across them', () => {
    const samples = [0, 1, 999, 1000, 86_399_999, 1_765_151_000_000, 1_765_151_000_999, 253_402_300_799_999];
    for (let index = 0; index < 5000; index++)
      samples.push(1_765_151_000_000 + index * 7, Math.floor(Math.random() * 253_402_300_800_000));
    samples.push(253_402_300_800_000, -1, -86_400_001, 1.5);
    for (const ms of samples) expect(isoTimestamp(ms)).toBe(new Date(ms).toISOString());
  });
});

describe('RunJournal', () => {
  it('seals events as sealEvent does, with one shared identity chain, and they verify', async () => {
    const writes: JournalWrite[] = [];
    let now = 1_765_151_000_000;
    const journal = new RunJournal({
      runId: 'run_1',
      owner: 'worker_1',
      lastSeq: 0,
      headHash: GENESIS_HASH,
      committer: { commit: async (write) => void writes.push(write) },
      clock: () => (now += 400),
      identity: () => ({ actor: 'workflow:w', onBehalfOf: ['user:a'] }),
    });
    journal.buffer({ type: 'clock.read', payload: { op: 1, value: 'x' } });
    await journal.append([stepCompleted(2, 'load', 1, { b: 1, a: [2] }, '{"a":[2],"b":1}')]);
    await journal.append([
      { type: 'step.completed', payload: { op: 3, name: 'n', attempt: 1, result: 'é' } },
    ]);
    const events = writes.flatMap((write) => write.events);
    expect(events.map((event) => event.seq)).toEqual([1, 2, 3]);
    let prevHash = GENESIS_HASH;
    for (const event of events) {
      const { hash: _hash, ...unsealed } = event;
      const resealed = sealEvent({ ...unsealed, onBehalfOf: [...event.onBehalfOf], prevHash });
      expect(event).toEqual(resealed);
      expect(event.at).toBe(new Date(Date.parse(event.at)).toISOString());
      prevHash = event.hash;
    }
    // Stored and read back (plain JSON), the chain still verifies.
    expect(verifyChain(JSON.parse(JSON.stringify(events)) as typeof events).ok).toBe(true);
    expect(events[1]!.onBehalfOf).toBe(events[2]!.onBehalfOf);
    expect(Object.isFrozen(events[1]!.onBehalfOf)).toBe(true);
  });
});
