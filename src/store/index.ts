// The public surface of 'baton/store': the Store spec (v1) and its optional capabilities, for those
// who write a store (run 'baton/testing's storeConformance against it), the embedded SQLite store
// and its errors. The journal's events a store keeps are 'baton/journal'; the PostgreSQL store is
// 'baton/postgres'.
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
  AdmissionBound,
  ForkNote,
} from './store.ts';
export type {
  PoolStore,
  PoolLimits,
  PoolAcquireRequest,
  PoolAcquireResult,
  PoolRefusal,
  PoolReleaseOptions,
  PoolUsage,
} from './pool-store.ts';
export type { CheckpointRecord, CheckpointStore } from './checkpoints.ts';
export type { EventQuery } from './event-query.ts';
export type { ApprovalQuery } from './approval-query.ts';
export type { BudgetStore, BudgetAmounts, BudgetReservation } from './budget-store.ts';
export type {
  VectorRecordStore,
  VectorRecord,
  NewVectorRecord,
  VectorRecordScope,
} from './vector-records.ts';
export { SqliteStore, type SqliteStoreOptions } from './sqlite/sqlite-store.ts';
export { openStore } from './open-store.ts';
export {
  JournalCorruptError,
  StoreVersionError,
  StoreCorruptError,
  StoreNotFoundError,
  StoreUnavailableError,
  ClockSkewError,
  LeaseLostError,
} from '../errors.ts';
export type { RunStreamStore, NewStreamPart, StreamPartRecord } from './run-streams.ts';
