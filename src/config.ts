import type { WorkflowDefinition } from './engine/workflow.ts';
import type { WorkerOptions } from './engine/worker.ts';
import type { Store } from './store/store.ts';
import type { PoolsConfig } from './resources/pool-config.ts';
import type { SigningOptions } from './access/checkpoint-signer.ts';
import type { TelemetryOptions } from './telemetry/telemetry.ts';
import type { PolicyEngine, PolicyEngineOptions } from './access/policy-engine.ts';
import type { GrantPolicy } from './access/access-control.ts';
import type { SecretBroker, SecretSource } from './access/secret-broker.ts';
import type { AuthOptions } from './server/authenticate.ts';
import type { CorsOptions } from './server/server.ts';
import type { GuardOptions } from './guard/guard.ts';
import type { AgentsOptions } from './agents/runtime.ts';
import type { RoutingOptions } from './agents/agent-capabilities.ts';

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
  /**
   * Named resource pools: `{ openai: { concurrency: 8, requestsPerMinute: 500, tokensPerMinute: 200_000 } }`.
   * Steps (`{ pool }`), tools (`tool({ pool })`), agents' model calls (`agent({ pool })`) and MCP
   * servers (`mcp({ pool })`) name them; a name that is not here fails at its first use.
   */
  pools?: PoolsConfig;
  /**
   * Cedar policies that authorize every tool call, handoff, agent called as a tool and child start
   * (default deny): files and patterns relative to this file (`['policies/*.cedar']`), `{ files }`,
   * `{ text }`, or a PolicyEngine. Parsed and validated against Baton's schema once, when the CLI or
   * a worker opens Baton; a malformed file fails with PolicyLoadError (file:line:column). Without
   * policies, tool calls are limited only by the grants runs hold (none by default).
   */
  policies?: readonly string[] | PolicyEngineOptions | PolicyEngine;
  /** The grant of runs started without one: `{ actions: ['tool:search.*'], ttl: '8h' }`, or a function of the run. */
  grant?: GrantPolicy;
  /** Where tools' credentials come from: a ScopedSecretBroker, or its sources (`[envSecrets()]`). */
  secrets?: SecretBroker | readonly SecretSource[];
  /** The deepest grant delegation (default 8). */
  maxDelegationDepth?: number;
  /** Bounded admission: `start` fails fast with OverloadedError while this many runs are pending. */
  maxQueuedRuns?: number;
  maxQueuedRunsPerTenant?: number;
  /** Guardrails, budgets, loop detection, approval gates, approver groups and policies (src/guard). */
  guard?: GuardOptions;
  /**
   * Sign runs' chain heads with the deployment's Ed25519 key (tamper evidence, `baton verify`,
   * `baton export`): `{}` keeps the key in `.baton/keys/` beside this file, `{ keyFile }` names one.
   */
  signing?: SigningOptions;
  /**
   * `baton server`: who may call the HTTP API (API tokens, JWTs), the Cedar policies that authorize
   * each action (else tenant isolation only), where it listens (default 127.0.0.1:4000), and the
   * other origins whose web pages may call it (`cors: { origins: ['https://app.example.com'] }`).
   */
  server?: {
    auth?: AuthOptions;
    policies?: PolicyEngineOptions;
    port?: number;
    hostname?: string;
    cors?: CorsOptions;
  };
  /** OpenTelemetry: `{ otlp: { endpoint } }`, or false for none. Default: OTEL_EXPORTER_OTLP_ENDPOINT when set. */
  telemetry?: TelemetryOptions | false;
  /** Capability routing for `ctx.route`: `{ capabilities: [billing, accounts], defaults: { fallback: 'generalist' } }`. */
  routing?: RoutingOptions;
  /** The agents' semantic cache and long-term memory (`{ cache: { maxErrorRate: 0.01 }, memory: {} }`), prices. */
  agents?: Pick<AgentsOptions, 'cache' | 'memory' | 'prices'>;
}

export function defineConfig(config: BatonConfig): BatonConfig {
  return config;
}
