import { lazyValue, zod } from '../lazy-module.ts';
import { checkAccessOptions } from '../access/access-control.ts';
import type { BatonConfig } from '../config.ts';
import { ConfigError } from '../errors.ts';
import { resolvePools } from '../resources/pool-config.ts';
import type { Store } from '../store/store.ts';

// The check of a config's shape, apart from load-config.ts, which imports this module only when it has
// a config to check: the check loads zod, the access layer's checks and the pools', which a command
// run where there is no config file (`baton runs` on a store given by --store) never needs.

const isFunction = (value: unknown): boolean => typeof value === 'function';
const isStore = (value: unknown): boolean =>
  typeof value === 'object' &&
  value !== null &&
  (value as { specificationVersion?: unknown }).specificationVersion === 'v1';

/**
 * The shape of a config, checked at the door. Other layers add their keys (agents, tools, policies,
 * pools) here; keys this schema does not know are kept, so a config may carry them before the CLI uses them.
 * Made on first use.
 */
const configSchema = lazyValue(() => {
  const z = zod();
  const workflowSchema = z.looseObject({
    kind: z.literal('workflow', { error: "expected a workflow made with workflow('name', fn)" }),
    name: z.string().min(1),
    fn: z.custom<(...args: never[]) => unknown>(isFunction, { error: 'expected a function' }),
  });
  return z.looseObject({
    store: z
      .union([z.string().min(1), z.custom<Store>(isStore)], {
        error: "expected a store URL ('sqlite:./baton.db', 'postgres://…') or a Store object",
      })
      .optional(),
    workflows: z.array(workflowSchema, { error: 'expected an array of workflows' }),
    worker: z
      .looseObject({
        concurrency: z.int().positive().optional(),
        leaseMs: z.int().positive().optional(),
        pollMs: z.int().positive().optional(),
        id: z.string().min(1).optional(),
      })
      .optional(),
    maxPayloadBytes: z.int().positive().optional(),
    pools: z
      .record(z.string(), z.looseObject({}), {
        error: 'expected pools by name: { openai: { concurrency: 8 } }',
      })
      .optional(),
    policies: z
      .union(
        [
          z.array(z.string().min(1), { error: 'expected Cedar file names or patterns' }),
          z.looseObject({
            files: z.array(z.string().min(1)).optional(),
            text: z
              .union([
                z.string(),
                z.looseObject({ name: z.string(), text: z.string() }),
                z.array(z.looseObject({ name: z.string(), text: z.string() })),
              ])
              .optional(),
          }),
        ],
        {
          error: "expected a list of Cedar files ('policies/*.cedar'), { files }, { text } or a PolicyEngine",
        },
      )
      .optional(),
    grant: z
      .union(
        [
          z.custom<(...args: never[]) => unknown>(isFunction),
          z.looseObject({
            actions: z.array(z.string(), { error: "expected grant actions ('tool:search.*')" }),
            ttl: z.union([z.string(), z.number()]).optional(),
            expiresAt: z.union([z.string(), z.number(), z.date()]).optional(),
          }),
        ],
        { error: "expected { actions: ['tool:…'], ttl? } or a function of the run" },
      )
      .optional(),
    secrets: z
      .union(
        [
          z.array(
            z.looseObject({
              get: z.custom(isFunction, { error: 'expected a secret source with get(name)' }),
            }),
          ),
          z.looseObject({ get: z.custom(isFunction), scrub: z.custom(isFunction) }),
        ],
        {
          error: 'expected a ScopedSecretBroker or a list of secret sources (envSecrets(), mapSecrets({…}))',
        },
      )
      .optional(),
    maxDelegationDepth: z.int().nonnegative().optional(),
  });
});

/** Checks a config's shape; the error names the file and the first bad field. */
export function validateConfig(value: unknown, path = 'the config'): asserts value is BatonConfig {
  const parsed = configSchema().safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.length === 0 ? '(the default export)' : formatPath(issue.path);
    const more =
      parsed.error.issues.length > 1 ? ` (and ${parsed.error.issues.length - 1} more problem(s))` : '';
    throw new ConfigError(`${path} is invalid: ${field}: ${issue.message}${more}.`);
  }
  const config = value as BatonConfig;
  try {
    resolvePools(config.pools);
    checkAccessOptions(
      {
        ...(config.policies === undefined ? {} : { policies: config.policies }),
        ...(config.grant === undefined ? {} : { grant: config.grant }),
        ...(config.secrets === undefined ? {} : { secrets: config.secrets }),
        ...(config.maxDelegationDepth === undefined ? {} : { maxDelegationDepth: config.maxDelegationDepth }),
      },
      'the config',
    );
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new ConfigError(`${path} is invalid: ${error.message.replace(/^the config: /, '')}`, {
      cause: error,
    });
  }
  const names = new Set<string>();
  for (const [index, definition] of (value as BatonConfig).workflows.entries()) {
    if (names.has(definition.name)) {
      throw new ConfigError(
        `${path} is invalid: workflows[${index}]: a second workflow is named '${definition.name}'.`,
      );
    }
    names.add(definition.name);
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}
