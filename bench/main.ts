// `npm run bench`: every figure Baton reports, each against a physical baseline measured in this run.
// Add a figure: write bench/<figure>.ts exporting a Figure, and list it here.
import { runBench } from './harness.ts';
import { sequentialSteps } from './sequential-steps.ts';
import { concurrentRuns } from './concurrent-runs.ts';
import { resumeHistory } from './resume-history.ts';
import { postgresFigure } from './postgres.ts';
import { accessFigure } from './access.ts';
import { journalBytes } from './journal-bytes.ts';
import { poolsFigure } from './pools.ts';
import { routing } from './routing.ts';
import { startup } from './startup.ts';
import { plansFigure } from './plans.ts';
import { routingQualityFigure } from './routing-quality.ts';
import { cascadeCost } from './cascade-cost.ts';
import { agentScaleOut } from './agent-scale-out.ts';
import { parkedRuns } from './parked-runs.ts';
import { agentTurns } from './agent-turns.ts';
import { liveStreamCommitCost, liveStreamLatency } from './live-streams.ts';
import { explainHistory } from './explain-history.ts';

await runBench([
  sequentialSteps,
  concurrentRuns,
  resumeHistory,
  postgresFigure,
  accessFigure,
  journalBytes,
  poolsFigure,
  routing,
  startup,
  plansFigure,
  routingQualityFigure,
  cascadeCost,
  agentScaleOut,
  parkedRuns,
  agentTurns,
  liveStreamLatency,
  liveStreamCommitCost,
  explainHistory,
]);
