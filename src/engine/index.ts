// The public surface of 'baton/engine': the durable engine's API in full, beyond the workflow,
// context and options 'baton' exports — what ctx's and Baton's calls take and return, context layers
// for `Baton.open({ layers })`, workers, live streams, and the errors the engine's API throws.
export type {
  StepInfo,
  ChildRun,
  WorkflowQuery,
  OperationApi,
  OperationHandle,
  PoolEstimate,
  PoolLease,
  RunStreamApi,
} from './context.ts';
export type { ContextLayer, LayerActivation } from './context-layer.ts';
export { CancelledError, type CancellationScope } from './cancellation-scope.ts';
export { toMilliseconds } from './duration.ts';
export type { WorkerOptions } from './worker.ts';
export type { ActivationOutcome } from './executor.ts';
export type { ResumeInPlaceOptions } from './resume-run.ts';
export { SignalKeyConflictError, type SignalReceipt } from './signal-delivery.ts';
export { UnknownQueryError, type PublishedValue } from './published-values.ts';
export { PatchMisuseError } from './patches.ts';
export { ContinueAsNewInStepError, ContinueAsNewRequest } from './continue-as-new.ts';

// Live run streams: journal events and the deltas of work in flight, to any reader (docs/guide/live-streams.md).
export type { RunStreamPart } from './run-stream-parts.ts';
export type { StreamsOptions } from '../live-streams.ts';
export { StreamCursorError, StreamReadersExhaustedError } from './stream-errors.ts';
