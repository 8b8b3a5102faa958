import type { KeyObject } from 'node:crypto';
import type { JournalEvent } from '../journal/events.ts';
import { journalView, type RunEvidence } from '../journal/run-facts.ts';
import type { RunRecord, Store } from '../store/store.ts';
import { describeProblem, verifyEvidence } from './verify-run.ts';

/**
 * A run as a door shows it: what the journal holds (principal, tenant, input, status, result,
 * parent) taken from the journal, and `evidence` saying what could be checked. With the
 * deployment's public key, the run's checkpoints are verified too, failing closed (a finished run
 * must be signed at its end); without it, `evidence.signatures` is absent.
 */
export async function runView(
  store: Store,
  record: RunRecord,
  events: readonly JournalEvent[],
  key: KeyObject | undefined,
  scope?: { tenant: string },
): Promise<{ run: RunRecord; evidence: RunEvidence }> {
  const view = journalView(record, events);
  if (!key) return view;
  const checkpoints = (await store.checkpoints?.listCheckpoints(record.runId, scope)) ?? [];
  const report = verifyEvidence(
    { runId: record.runId, events, lastSeq: record.lastSeq, headHash: record.headHash, record, checkpoints },
    [key],
  );
  return {
    run: view.run,
    evidence: {
      ...view.evidence,
      consistent: view.evidence.consistent && report.ok,
      signatures: {
        ok: report.ok,
        final: report.final,
        ...(report.signedSeq === undefined ? {} : { signedSeq: report.signedSeq }),
        problems: report.problems.map(describeProblem),
      },
    },
  };
}
