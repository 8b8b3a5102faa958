import type { WorkflowDefinition } from './engine/workflow.ts';
import type { WorkerOptions } from './engine/worker.ts';
import type { Store } from './store/store.ts';
import type { PoolsConfig } from './resources/pool-config.ts';
import type { SigningOptions } from './access/checkpoint-signer.ts';

/**
 * What `baton.config.ts` at a project's root exports (as default): the store and the workflows the
 * CLI and workers load.
 *
 * @example
 * export default defineConfig({ store: 'sqlite:./baton.db', workflows: [support] });
 */
export interface BatonConfig {
  store?: string | Store;
  workflows: readonly WorkflowDefinition<any, any, any>[];
  worker?: WorkerOptions;
  maxPayloadBytes?: number;
  /** Named resource pools: `{ openai: { concurrency: 8, requestsPerMinute: 500, tokensPerMinute: 200_000 } }`. */
  pools?: PoolsConfig;
  /** Bounded admission: `start` fails fast with OverloadedError while this many runs are pending. */
  maxQueuedRuns?: number;
  maxQueuedRunsPerTenant?: number;
  /**
   * Sign runs' chain heads with the deployment's Ed25519 key (tamper evidence, `baton verify`,
   * `baton export`): `{}` keeps the key in `.baton/keys/` beside this file, `{ keyFile }` names one.
   */
  signing?: SigningOptions;
}

export function defineConfig(config: BatonConfig): BatonConfig {
  return config;
}
