import type { RunRecord } from '../store/store.ts';
import type { WorkerBeat } from '../store/worker-registry.ts';
import type { Caller } from './authenticate.ts';
import type { ServerApp, ServerParts } from './server-parts.ts';

/** A worker as the API shows it: alive or gone, and the runs of it the caller may read. */
export interface WorkerView {
  workerId: string;
  host: string;
  pid: number;
  startedAt: number;
  concurrency: number;
  workflows: readonly string[];
  alive: boolean;
  lastBeatAt: number;
  busy: number;
  runs: { runId: string; workflow: string; status: string }[];
}

/** Workers: whether any is connected to the store, and what each is running. */
export function workersRoutes(app: ServerApp, parts: ServerParts): void {
  app.get('/api/workers', async (c) => {
    const registry = parts.baton.store.workers;
    if (!registry) return c.json({ tracked: false, connected: 0, workers: [] });
    const now = parts.baton.clock();
    const caller = c.get('caller');
    const workers = await Promise.all(
      (await registry.list()).map((beat) => viewOf(beat, now, (runId) => readable(parts, caller, runId))),
    );
    return c.json({ tracked: true, connected: workers.filter((worker) => worker.alive).length, workers });
  });
}

async function viewOf(
  beat: WorkerBeat,
  now: number,
  readable: (runId: string) => Promise<RunRecord | undefined>,
): Promise<WorkerView> {
  const alive = beat.expiresAt > now;
  const runs = alive ? await Promise.all(beat.runIds.map(readable)) : [];
  return {
    workerId: beat.workerId,
    host: beat.host,
    pid: beat.pid,
    startedAt: beat.startedAt,
    concurrency: beat.concurrency,
    workflows: beat.workflows,
    alive,
    lastBeatAt: beat.beatAt,
    busy: alive ? beat.runIds.length : 0,
    runs: runs
      .filter((run): run is RunRecord => run !== undefined)
      .map((run) => ({ runId: run.runId, workflow: run.workflow, status: run.status })),
  };
}

/** The run when it is in the caller's tenant and the caller may read it. */
async function readable(parts: ServerParts, caller: Caller, runId: string): Promise<RunRecord | undefined> {
  const run = await parts.baton.store.getRun(runId, { tenant: caller.tenant });
  return run !== undefined && parts.gate.allowsRun(caller, 'ReadRun', run) ? run : undefined;
}
