import { BatonError } from '../errors.ts';

/**
 * A resume cursor a run's stream cannot resume from: not a cursor (`malformed`), one taken from
 * another run's stream (`other-run`), or one past what the run has written (`ahead`). Nothing is
 * read; start again without a cursor (or with one this run's stream gave).
 */
export class StreamCursorError extends BatonError {
  readonly reason: 'malformed' | 'other-run' | 'ahead';
  constructor(args: {
    runId: string;
    cursor: string;
    reason: 'malformed' | 'other-run' | 'ahead';
    detail?: string;
  }) {
    const why = {
      malformed: 'is not a stream cursor (it reads <seq>-<part>-<run tag>, as the stream gave it)',
      'other-run': 'belongs to the stream of another run',
      ahead: `is ahead of what the run has written${args.detail ? ` (${args.detail})` : ''}`,
    }[args.reason];
    super(
      'STREAM_CURSOR_INVALID',
      `The cursor '${args.cursor.slice(0, 80)}' ${why}; read run ${args.runId}'s stream from its start, or from a cursor it gave.`,
    );
    this.reason = args.reason;
  }
}

/** This process already serves as many live stream readers as it allows; retry later. */
export class StreamReadersExhaustedError extends BatonError {
  constructor(args: { limit: number }) {
    super(
      'TOO_MANY_STREAM_READERS',
      `This process already serves ${args.limit} live stream readers (Baton option streams.maxReaders); try again shortly.`,
      { disposition: 'retryable', retryAfterMs: 1000 },
    );
  }
}
