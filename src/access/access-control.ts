import { toMilliseconds, type Duration } from '../engine/duration.ts';
import { ConfigError } from '../errors.ts';
import { InvalidGrantError } from './access-errors.ts';
import type { Authorizer } from './access-request.ts';
import { DEFAULT_MAX_DELEGATION_DEPTH } from './delegate.ts';
import { GRANT_AUTHORIZER } from './grant-authorizer.ts';
import { assertCurrent, createGrant, parseGrant, type Grant } from './grant.ts';
import { PolicyEngine, type PolicyEngineOptions } from './policy-engine.ts';
import { resolvePolicyFiles } from './policy-files.ts';
import { SecretBroker, type SecretSource } from './secret-broker.ts';

/** A grant to create for a run: its actions, and when it expires (a time, or a duration from the start). */
export interface GrantSpec {
  actions: readonly string[];
  expiresAt?: Date | string | number;
  /** The grant expires this long after the run starts (the earlier of this and `expiresAt`). */
  ttl?: Duration;
}

/** Who a run is started for, as a grant policy sees it. */
export interface GrantPolicyRequest {
  workflow: string;
  tenant: string;
  principal: string;
}

/**
 * The grant runs get when `baton.start` names none: a spec every run gets, or a function of the run
 * (returning undefined gives the run no grant). Children are not given one: they inherit their
 * parent's, narrowed.
 */
export type GrantPolicy = GrantSpec | ((run: GrantPolicyRequest) => GrantSpec | Grant | undefined);

/** The access options of `Baton.open` and baton.config.ts. */
export interface AccessOptions {
  /**
   * Cedar policies that authorize every tool call, handoff, agent called as a tool and child start:
   * a loaded PolicyEngine, its options (`{ files }`, `{ text }`), or a list of files and patterns
   * (`['policies/*.cedar']`, relative to `policiesBase`). Parsed and validated once, at open
   * (PolicyLoadError with file:line:column). With policies, default deny applies to every tool call;
   * without, tool calls are limited by grants only, and runs with no grant behave as without access.
   */
  policies?: PolicyEngine | PolicyEngineOptions | readonly string[];
  /** Where relative policy files are read from. Default: the working directory. */
  policiesBase?: string;
  /** The grant of runs started without one (`baton.start(…, { grant })`). Default: none. */
  grant?: GrantPolicy;
  /**
   * Where tools' credentials come from (`toolCtx.secrets.get(name)`): a ScopedSecretBroker, or its
   * sources. A tool gets a secret only when the grant it is called under lists `secret:<name>`.
   */
  secrets?: SecretBroker | readonly SecretSource[];
  /** The deepest grant delegation (sub-agent of sub-agent…; the root grant is depth 0). Default 8. */
  maxDelegationDepth?: number;
}

/**
 * Baton's access layer wired into a deployment: the policies (or none), the default grant policy
 * and the secret broker. The access context layer (src/access/access-layer.ts) gives runs'
 * contexts their grant and authorized child starts; src/context-layers.ts installs the access
 * tool interceptor into the agents runtime.
 *
 * - A run's root grant is given at start or by the grant policy, checked (tenant, expiry), and
 *   journaled in `run.started` (and kept in the run's metadata as `grant`).
 * - Tool calls go through the `access` tool interceptor (installed first).
 * - Handoffs and agents called as tools are authorized (HandOff) by the agents layer with
 *   `runtime.access`; child starts (StartChild) by the access layer, through `ctx.child`.
 * - Every delegation narrows the grant to what the callee needs (src/access/delegate.ts).
 */
export class AccessControl {
  readonly policies: PolicyEngine | undefined;
  /** What decides: the policies, or the grants alone. */
  readonly authorizer: Authorizer;
  readonly secrets: SecretBroker | undefined;
  readonly maxDelegationDepth: number;
  readonly #grantPolicy: GrantPolicy | undefined;
  /** The clock grants' expiry is checked against. */
  readonly clock: () => number;

  private constructor(policies: PolicyEngine | undefined, options: AccessOptions, clock: () => number) {
    this.policies = policies;
    this.authorizer = policies ?? GRANT_AUTHORIZER;
    this.#grantPolicy = options.grant;
    this.clock = clock;
    this.maxDelegationDepth = options.maxDelegationDepth ?? DEFAULT_MAX_DELEGATION_DEPTH;
    const secrets = options.secrets;
    this.secrets =
      secrets === undefined || secrets instanceof SecretBroker
        ? secrets
        : new SecretBroker({ sources: secrets });
  }

  /**
   * Checks the options and loads the policies (read, parsed and validated once).
   *
   * @throws PolicyLoadError for a policy file that cannot be read, parsed or validated (file:line:column);
   *   ConfigError for a malformed grant policy, secrets or depth; InvalidGrantError for a bad action.
   */
  static async open(options: AccessOptions = {}, deps: { clock: () => number }): Promise<AccessControl> {
    checkAccessOptions(options);
    return new AccessControl(await loadPolicies(options), options, deps.clock);
  }

  /** Access with no policies, grant policy or secrets: runs' own grants still narrow and decide. */
  static unconfigured(clock: () => number = Date.now): AccessControl {
    return new AccessControl(undefined, {}, clock);
  }

  /**
   * The grant a new run starts under: the one given (a Grant of the run's tenant, unexpired, or a
   * spec), else the grant policy's, else none. A child's grant was already delegated by its parent.
   */
  runGrant(
    request: GrantPolicyRequest & { given?: Grant | GrantSpec | undefined; child: boolean; now: number },
  ): Grant | undefined {
    const { given, tenant, principal, now } = request;
    if (request.child) return given === undefined ? undefined : parseGrant(given);
    const chosen =
      given ?? (typeof this.#grantPolicy === 'function' ? this.#grantPolicy(request) : this.#grantPolicy);
    if (chosen === undefined) return undefined;
    let grant: Grant;
    if (isGrant(chosen)) {
      grant = parseGrant(chosen);
      if (grant.tenant !== tenant) {
        throw new InvalidGrantError(
          `Grant ${grant.id} is for tenant '${grant.tenant}', but the run starts in tenant '${tenant}'.`,
        );
      }
    } else {
      grant = createGrant({ tenant, holder: principal, actions: chosen.actions, ...expiry(chosen, now) });
    }
    assertCurrent(grant, now);
    return grant;
  }
}

function isGrant(value: Grant | GrantSpec): value is Grant {
  return typeof (value as { id?: unknown }).id === 'string';
}

function expiry(spec: GrantSpec, now: number): { expiresAt?: number | string | Date } {
  const ttl = spec.ttl === undefined ? undefined : now + toMilliseconds(spec.ttl, 'grant ttl');
  if (spec.expiresAt === undefined) return ttl === undefined ? {} : { expiresAt: ttl };
  if (ttl === undefined) return { expiresAt: spec.expiresAt };
  const at =
    spec.expiresAt instanceof Date
      ? spec.expiresAt.getTime()
      : typeof spec.expiresAt === 'number'
        ? spec.expiresAt
        : Date.parse(spec.expiresAt);
  return { expiresAt: Math.min(at, ttl) };
}

async function loadPolicies(options: AccessOptions): Promise<PolicyEngine | undefined> {
  const given = options.policies;
  if (given === undefined) return undefined;
  if (given instanceof PolicyEngine) return given;
  const base = options.policiesBase ?? process.cwd();
  const spec: PolicyEngineOptions = isFileList(given) ? { files: given } : given;
  const files = spec.files === undefined ? undefined : await resolvePolicyFiles(spec.files, base);
  return PolicyEngine.load({ ...spec, ...(files === undefined ? {} : { files }) });
}

function isFileList(value: PolicyEngineOptions | readonly string[]): value is readonly string[] {
  return Array.isArray(value);
}

/** Checks access options at the door, before anything is opened. */
export function checkAccessOptions(options: AccessOptions, where = 'Baton.open'): void {
  const { policies, grant, secrets, maxDelegationDepth } = options;
  if (policies !== undefined && !(policies instanceof PolicyEngine)) {
    const ok = isFileList(policies)
      ? policies.every((file) => typeof file === 'string' && file !== '')
      : typeof policies === 'object' &&
        policies !== null &&
        (policies.files !== undefined || policies.text !== undefined);
    if (!ok) {
      throw new ConfigError(
        `${where}: policies must be a list of Cedar files ('policies/*.cedar'), { files } or { text }, or a PolicyEngine.`,
      );
    }
  }
  if (grant !== undefined && typeof grant !== 'function') {
    if (typeof grant !== 'object' || grant === null || !Array.isArray(grant.actions)) {
      throw new ConfigError(
        `${where}: grant must be { actions: [...], ttl?, expiresAt? } or a function of the run.`,
      );
    }
    try {
      createGrant({ tenant: 'check', actions: grant.actions, ...expiry(grant, Date.now()) });
    } catch (error) {
      throw new ConfigError(`${where}: grant: ${(error as Error).message}`, { cause: error });
    }
  }
  if (secrets !== undefined && !(secrets instanceof SecretBroker)) {
    const ok = Array.isArray(secrets) && secrets.every((source) => typeof source?.get === 'function');
    if (!ok) {
      throw new ConfigError(
        `${where}: secrets must be a ScopedSecretBroker or a list of secret sources (envSecrets(), mapSecrets({…})).`,
      );
    }
  }
  if (maxDelegationDepth !== undefined && (!Number.isInteger(maxDelegationDepth) || maxDelegationDepth < 0)) {
    throw new ConfigError(
      `${where}: maxDelegationDepth must be an integer ≥ 0, got ${String(maxDelegationDepth)}.`,
    );
  }
}
