export type * from './run-model.ts';
export { deriveRunModel, RunModelBuilder, type RunModelTouch } from './derive-run-model.ts';
export { costReport, costReportOf, COST_EVENT_TYPES, type CostLine, type CostReport } from './cost-report.ts';
