import type { WorkflowDefinition } from './engine/workflow.ts';
import type { WorkerOptions } from './engine/worker.ts';
import type { Store } from './store/store.ts';

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
}

export function defineConfig(config: BatonConfig): BatonConfig {
  return config;
}
