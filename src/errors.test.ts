import { describe, expect, it } from 'vitest';
import {
  BatonError,
  InvalidArgumentError,
  RunWaitTimeoutError,
  SeqConflictError,
  StepTimeoutError,
  WaitTimeoutError,
} from './errors.ts';
import { CancelledError } from './engine/cancellation-scope.ts';

describe('matching errors by class', () => {
  it('a class recognises its own errors and its subclasses, not its siblings', () => {
    const conflict = new SeqConflictError({ runId: 'r1', expectedSeq: 3, lastSeq: 1 });
    expect(SeqConflictError.isInstance(conflict)).toBe(true);
    expect(BatonError.isInstance(conflict)).toBe(true);
    expect(InvalidArgumentError.isInstance(conflict)).toBe(false);
    expect(conflict.code).toBe('SEQ_CONFLICT');
    expect(conflict.message).toBe('Run r1: expected to append seq 3, but the journal ends at seq 1.');
  });

  it('an error carrying another class’s code is not taken for that class', () => {
    // A journaled failure brought back as a plain BatonError keeps its code, not its class.
    const replayed = new BatonError('CANCELLED', 'A cancellation scope was cancelled.');
    expect(CancelledError.isInstance(replayed)).toBe(false);
    expect(BatonError.isInstance(replayed)).toBe(true);
  });

  it('a plain Error or a lookalike object is no Baton error', () => {
    expect(BatonError.isInstance(new Error('x'))).toBe(false);
    expect(StepTimeoutError.isInstance({ code: 'STEP_TIMEOUT', name: 'StepTimeoutError' })).toBe(false);
    expect(BatonError.isInstance(null)).toBe(false);
  });

  it('an error from another copy of the package is recognised by the class of the same name', async () => {
    const another = new URL('./errors.ts?another-copy', import.meta.url).href;
    const copy: typeof import('./errors.ts') = await import(/* @vite-ignore */ another);
    expect(copy.WaitTimeoutError).not.toBe(WaitTimeoutError);
    const foreign = new copy.WaitTimeoutError({ signal: 'reply', timeoutMs: 10 });
    expect(foreign instanceof WaitTimeoutError).toBe(false);
    expect(WaitTimeoutError.isInstance(foreign)).toBe(true);
    expect(BatonError.isInstance(foreign)).toBe(true);
    expect(RunWaitTimeoutError.isInstance(foreign)).toBe(false);
    expect(copy.WaitTimeoutError.isInstance(new WaitTimeoutError({ signal: 'reply', timeoutMs: 10 }))).toBe(
      true,
    );
  });
});
