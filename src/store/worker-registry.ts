/** A worker's heartbeat: who it is, where it runs, what it can run and what it runs now. */
export interface WorkerBeat {
  workerId: string;
  host: string;
  pid: number;
  /** When the worker started (epoch ms). */
  startedAt: number;
  /** Runs it executes at once, at most. */
  concurrency: number;
  /** The workflows it can run. */
  workflows: readonly string[];
  /** The runs it executes now. */
  runIds: readonly string[];
  /** When this beat was taken. */
  beatAt: number;
  /** When the worker counts as gone if no other beat came: a crashed worker is seen as gone then. */
  expiresAt: number;
}

/** How long a worker that stopped beating stays listed (as gone) before it is forgotten: a day. */
export const WORKER_MEMORY_MS = 24 * 60 * 60 * 1000;

/**
 * Optional store capability: the workers sharing the store, each as its last heartbeat, so a door
 * can say whether any worker is connected and what each is running. Workers beat every few
 * seconds (a third of their lease); a worker stopping cleanly removes itself; a crashed one stays
 * listed, as gone, once its beat has expired, and is forgotten a day later.
 */
export interface WorkerRegistry {
  readonly specificationVersion: 'v1';
  /** Records the worker's beat, replacing its last one; forgets workers gone for over a day. */
  beat(beat: WorkerBeat): Promise<void>;
  /** Removes a worker that stopped. Removing one not listed does nothing. */
  remove(workerId: string): Promise<void>;
  /** Every worker listed, the most recent beat first: alive ones have `expiresAt > now`. */
  list(): Promise<WorkerBeat[]>;
}

/** Whether any worker is alive at `now`; undefined when the store keeps no worker list (nobody can tell). */
export async function anyWorkerAlive(
  registry: WorkerRegistry | undefined,
  now: number,
): Promise<boolean | undefined> {
  if (!registry) return undefined;
  return (await registry.list()).some((worker) => worker.expiresAt > now);
}
