export type * from './run-model.ts';
export { deriveRunModel, RunModelBuilder, type RunModelTouch } from './derive-run-model.ts';
export { costReport, costReportOf, COST_EVENT_TYPES, type CostLine, type CostReport } from './cost-report.ts';
export {
  graphStates,
  patternGraphs,
  type GraphState,
  type NodeState,
  type PatternKind,
} from './run-graphs.ts';
