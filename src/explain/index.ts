// The public surface of 'baton/explain': the journal answering what happened and why — explain,
// replay, fork, history export, plans and graphs of a run, and OpenTelemetry (from src/telemetry/).
export { explain, explainEvents, type ExplainOptions } from './explain.ts';
export type {
  Explanation,
  ExplanationNode,
  ExplanationNodeKind,
  ExplanationStatus,
  Decision,
  Reason,
  TokenCount,
} from './explanation.ts';
export { formatExplanation, type FormatExplanationOptions } from './format-explanation.ts';
export { replay } from '../replay.ts';
export type { ReplayOptions, ReplayReport, ReplayDivergence } from './replay.ts';
export { forkRun, type ForkOptions, type ForkOverrides, type ForkDeps } from './fork.ts';
export type { ForkNote } from '../store/store.ts';
export {
  exportHistory,
  parseHistory,
  checkHistory,
  historyDocument,
  type HistoryDocument,
  type HistoryExportFormat,
} from './history-document.ts';
export {
  HistoryFormatError,
  InvalidHistoryError,
  ForkPointError,
  ForkWorkflowError,
} from './explain-errors.ts';
export { BatonTelemetry, openTelemetry, type TelemetryOptions } from '../telemetry/telemetry.ts';
export { JournalSpans, runTraceContext } from '../telemetry/journal-spans.ts';
export { JournalMetrics, type PoolSource } from '../telemetry/journal-metrics.ts';
export { formatPlans, plansOf, type PlanHistory } from '../planning/plan-format.ts';
export { formatGraph } from '../patterns/graph-format.ts';
export { graphOf, type GraphDescription } from '../patterns/graph.ts';
export { machineOf, type MachineDescription } from '../patterns/machine.ts';
// Replay's context layers outside a Baton: the one list (src/context-layers.ts) from parts.
export { contextLayers, type ContextParts } from '../context-layers.ts';
export { ContextLayers } from '../engine/context-layer.ts';

// The one typed model of a run, derived from its journal (docs/decisions/0023), and its cost report.
export {
  costReport,
  costReportOf,
  type CostReport,
  type CostLine,
} from '../journal/run-model/cost-report.ts';
export {
  deriveRunModel,
  RunModelBuilder,
  type RunModelTouch,
} from '../journal/run-model/derive-run-model.ts';
export type {
  RunModel,
  AgentModel,
  TurnModel,
  ToolCallModel,
  OperationModel,
  WaitModel,
  ApprovalModel,
  DecisionModel,
  CostEntry,
} from '../journal/run-model/run-model.ts';
