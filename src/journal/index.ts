// The public surface of 'baton/journal': what a run's history holds — the journal's events, a
// union that narrows on `type` (`baton.history(runId)`, `baton.stream(runId)`, a Store's reads),
// their payloads' records, and the canonical JSON their hash chain is computed over. Reading a
// history is 'baton/explain' (the run model, explain, replay); verifying one is 'baton/access'.
export type {
  JournalEvent,
  JournalEventType,
  JournalEventPayloads,
  AnyJournalEvent,
  EventDraft,
  PartialFailurePolicy,
  AccessDecisionPayload,
  GrantRecord,
  GuardStage,
  GuardVerdictRecord,
  ApprovalStageRecord,
  BudgetMetric,
} from './events.ts';
export { canonicalJson } from './canonical-json.ts';
