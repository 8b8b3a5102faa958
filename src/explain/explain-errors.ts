import { BatonError } from '../errors.ts';

/** A history was written by a newer journal format than this Baton reads. Nothing was replayed. */
export class HistoryFormatError extends BatonError {
  readonly found: number;
  readonly supported: number;
  constructor(args: { source: string; runId: string; found: number; supported: number }) {
    super(
      'HISTORY_FORMAT',
      `${capital(args.source)} (run ${args.runId}) was written in journal format ${args.found}, newer than this Baton ` +
        `reads (format ${args.supported}). Upgrade Baton to replay, explain or fork it; nothing was done.`,
    );
    this.found = args.found;
    this.supported = args.supported;
  }
}

/** A file or value given as a run's history is not one (not JSON, no run.started, a gap in seqs…). */
export class InvalidHistoryError extends BatonError {
  constructor(args: { source: string; reason: string }) {
    super('INVALID_HISTORY', `${capital(args.source)} is not a run's history: ${args.reason}.`);
  }
}

/** A fork point outside the run's journal, or at or after the event that finished it. */
export class ForkPointError extends BatonError {
  constructor(args: { runId: string; seq: number; lastSeq: number; maxSeq: number; finishedBy?: string }) {
    const finished = args.finishedBy
      ? `; seq ${args.maxSeq + 1} is its ${args.finishedBy}, which a fork cannot reuse`
      : '';
    super(
      'FORK_POINT',
      `Cannot fork run ${args.runId} at seq ${args.seq}: its journal has events 1 to ${args.lastSeq}${finished}. ` +
        `Fork at a seq from 1 to ${args.maxSeq} (see \`baton explain ${args.runId}\` for the seqs).`,
    );
  }
}

/** The run's workflow is not registered here, so its code cannot go on from the fork point. */
export class ForkWorkflowError extends BatonError {
  constructor(args: { runId: string; workflow: string; known: readonly string[] }) {
    super(
      'UNKNOWN_WORKFLOW',
      `Cannot fork run ${args.runId}: its workflow '${args.workflow}' is not registered in this Baton ` +
        `(registered: ${args.known.length ? args.known.join(', ') : 'none'}). Register the workflow's code ` +
        `(Baton.open({ workflows }) or baton.config.ts), then fork again. Nothing was written.`,
    );
  }
}

function capital(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
