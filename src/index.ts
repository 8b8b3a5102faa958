// The public surface of 'baton'. Nothing else is public.
export { Baton, type BatonOptions, type RunHandle, type StartOptions } from './baton.ts';
export { workflow, type WorkflowDefinition, type WorkflowOptions } from './engine/workflow.ts';
export type {
  WorkflowContext,
  StepInfo,
  StepOptions,
  WaitOptions,
  ChildOptions,
  ChildRun,
  OperationApi,
  OperationHandle,
} from './engine/context.ts';
export type { RetryPolicy } from './engine/retry.ts';
export { toMilliseconds, type Duration } from './engine/duration.ts';
export type { WorkerOptions } from './engine/worker.ts';
export {
  BatonError,
  NonDeterminismError,
  UnknownWorkflowError,
  RunNotFoundError,
  RunFinishedError,
  NotSerializableError,
  PayloadTooLargeError,
  StoreVersionError,
  StoreCorruptError,
  LeaseLostError,
  StepFailedError,
  NonRetryableError,
  StepTimeoutError,
  WaitTimeoutError,
  RunTimeoutError,
  RunCancelledError,
  RunFailedError,
  ConfigError,
  InvalidArgumentError,
  type SerializedError,
  type ErrorDisposition,
} from './errors.ts';
export type {
  JournalEvent,
  JournalEventType,
  JournalEventPayloads,
  AnyJournalEvent,
  EventDraft,
} from './journal/events.ts';
export { verifyChain, type ChainVerification, type ChainBreak } from './journal/hash-chain.ts';
export { canonicalJson } from './journal/canonical-json.ts';
export type {
  Store,
  RunRecord,
  RunStatus,
  RunFilter,
  NewRun,
  JournalWrite,
  RunTransition,
  WriteOutcome,
  SignalRecord,
  NewSignal,
  LeaseStatus,
  TenantScope,
} from './store/store.ts';
export { SqliteStore, type SqliteStoreOptions } from './store/sqlite/sqlite-store.ts';
export { openStore } from './store/open-store.ts';
export { defineConfig, type BatonConfig } from './config.ts';
