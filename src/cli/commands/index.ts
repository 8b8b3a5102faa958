import type { AnyCommand } from '../command.ts';
import { approvals } from './approvals.ts';
import { approve } from './approve.ts';
import { deny } from './deny.ts';
import { pause } from './pause.ts';
import { resume } from './resume.ts';
import { audit } from './audit.ts';
import { cancel } from './cancel.ts';
import { explain } from './explain.ts';
import { exportRun } from './export.ts';
import { fork } from './fork.ts';
import { graph } from './graph.ts';
import { history } from './history.ts';
import { migrate } from './migrate.ts';
import { pools } from './pools.ts';
import { replay } from './replay.ts';
import { runs } from './runs.ts';
import { server } from './server.ts';
import { show } from './show.ts';
import { signal } from './signal.ts';
import { getEvent } from './get-event.ts';
import { query } from './query.ts';
import { start } from './start.ts';
import { verify } from './verify.ts';
import { worker } from './worker.ts';

/**
 * Every `baton` command, in the order `baton help` lists them. To add one, write
 * src/cli/commands/<name>.ts exporting `defineCommand({...})` and add it to this list.
 */
export const commands: readonly AnyCommand[] = [
  start,
  worker,
  runs,
  show,
  history,
  explain,
  replay,
  fork,
  signal,
  getEvent,
  query,
  cancel,
  pause,
  resume,
  approve,
  deny,
  approvals,
  verify,
  exportRun,
  audit,
  graph,
  pools,
  server,
  migrate,
];
