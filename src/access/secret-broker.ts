import { disguisesOf } from '../journal/secret-disguises.ts';
import { SecretAccessDeniedError } from './access-errors.ts';
import { grantAllows, isExpired, type Grant } from './grant.ts';
import { identityChain, type IdentityChain } from './identity-chain.ts';

/**
 * Gives a tool the secrets its caller may use (a ScopedSecretBroker's `forAgents()` checks the
 * caller's grant). Secrets never reach a model or the journal: values it hands out are scrubbed.
 */
export type SecretResolver = (
  name: string,
  request: SecretRequest,
) => string | undefined | Promise<string | undefined>;

/** Who asks for a secret: the tool, and the identity calling it with the grant it holds. */
export interface SecretRequest {
  runId: string;
  tenant: string;
  tool: string;
  actor: string;
  onBehalfOf: readonly string[];
  /** The grant the calling identity holds (the run's, narrowed as work was delegated). */
  grant?: Grant;
}

/** Where secret values come from: the environment, a map, a vault client. */
export interface SecretSource {
  readonly name: string;
  get(secret: string): string | undefined | Promise<string | undefined>;
}

/**
 * Secrets from environment variables: `stripe.key` is read from `BATON_SECRET_STRIPE_KEY`
 * (the prefix, then the name upper-cased with every other character as `_`).
 */
export function envSecrets(options: { prefix?: string; env?: NodeJS.ProcessEnv } = {}): SecretSource {
  const prefix = options.prefix ?? 'BATON_SECRET_';
  const env = options.env ?? process.env;
  return {
    name: 'env',
    get: (secret) => env[`${prefix}${secret.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`],
  };
}

/** Secrets from a map (tests, or values a deployment loaded itself). */
export function mapSecrets(values: Readonly<Record<string, string>>): SecretSource {
  const copy = new Map(Object.entries(values));
  return { name: 'map', get: (secret) => copy.get(secret) };
}

/** Who asks for a secret: the acting identity and the grant it holds. */
export interface SecretIdentity {
  chain: IdentityChain;
  grant: Grant | undefined;
  /** Epoch ms, for grant expiry. Default Date.now(). */
  now?: number;
}

/** What a tool sees: secrets already scoped to the identity calling it. */
export interface SecretReader {
  get(name: string): Promise<string | undefined>;
}

/** Values shorter than this are never scrubbed from text (they would match everywhere). */
const MIN_SCRUB_LENGTH = 6;
export const SCRUBBED = '[secret]';

/**
 * Hands credentials to tools, scoped by identity: `get(name, identity)` succeeds only when the
 * identity's grant, unexpired, lists `secret:<name>` (or a pattern covering it, `secret:stripe.*`).
 * Secrets go to tool code only, never to a model or the journal: `scrub` replaces every secret
 * value this broker handed out with `[secret]`, for tool results and errors before they are
 * journaled or shown to a model.
 *
 * @example
 * const secrets = new SecretBroker({ sources: [envSecrets(), mapSecrets({ 'smtp.password': 'hunter22' })] });
 * const key = await secrets.get('stripe.key', { chain, grant }); // needs 'secret:stripe.key' in the grant
 */
export class SecretBroker {
  readonly #sources: readonly SecretSource[];
  readonly #handedOut = new Set<string>();

  constructor(options: { sources: readonly SecretSource[] }) {
    this.#sources = [...options.sources];
  }

  /**
   * The secret's value, or undefined when no source has it. Throws SecretAccessDeniedError when the
   * identity's grant does not list it (or has expired), without looking the secret up.
   */
  async get(name: string, identity: SecretIdentity): Promise<string | undefined> {
    const { chain, grant } = identity;
    const now = identity.now ?? Date.now();
    const denied = (reason: string): SecretAccessDeniedError =>
      new SecretAccessDeniedError({ secret: name, identity: chain.actor, grantId: grant?.id, reason });
    if (!grant) throw denied('it holds no grant');
    if (grant.tenant !== chain.tenant) throw denied(`its grant ${grant.id} is for another tenant`);
    if (isExpired(grant, now)) throw denied(`its grant ${grant.id} expired at ${grant.expiresAt}`);
    if (!grantAllows(grant, `secret:${name}`, now))
      throw denied(`its grant ${grant.id} does not list secret:${name}`);
    for (const source of this.#sources) {
      const value = await source.get(name);
      if (value !== undefined) {
        if (value.length >= MIN_SCRUB_LENGTH)
          for (const form of disguisesOf(value, MIN_SCRUB_LENGTH)) this.#handedOut.add(form);
        return value;
      }
    }
    return undefined;
  }

  /** A reader bound to one identity, as a tool's `secrets`. */
  reader(identity: SecretIdentity): SecretReader {
    return { get: (name) => this.get(name, identity) };
  }

  /**
   * The agents layer's secret resolver (`Baton.open({ secrets: broker })` installs it): each tool's
   * request for a secret is checked against the grant of the identity calling the tool, which is the
   * run's grant narrowed as work was delegated (`request.grant`). `identityOf` overrides whom the
   * request is checked as.
   *
   * @example agents: { secrets: broker.forAgents((call) => ({ chain: identityChain('acme', call.actor, call.onBehalfOf), grant })) }
   */
  forAgents(
    identityOf?: (request: SecretRequest) => SecretIdentity,
    clock: () => number = Date.now,
  ): SecretResolver {
    const resolve =
      identityOf ??
      ((request: SecretRequest): SecretIdentity => ({
        chain: identityChain(request.tenant, request.actor, request.onBehalfOf),
        grant: request.grant,
        now: clock(),
      }));
    return (name, request) => this.get(name, resolve(request));
  }

  /**
   * A copy of `value` with every secret value this broker has handed out replaced by `[secret]`
   * wherever it occurs in a string (also inside longer strings, and in keys), and in its common
   * disguises: base64 and base64url (also inside a longer encoded string, as in a Basic auth
   * header), URL-encoded, hex and JSON-escaped.
   */
  scrub<T>(value: T): T {
    if (this.#handedOut.size === 0) return value;
    const secrets = [...this.#handedOut].sort((a, b) => b.length - a.length);
    const clean = (text: string): string => {
      let out = text;
      for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join(SCRUBBED);
      return out;
    };
    const walk = (item: unknown): unknown => {
      if (typeof item === 'string') return clean(item);
      if (item === null || typeof item !== 'object') return item;
      if (Array.isArray(item)) return item.map(walk);
      const out: Record<string, unknown> = {};
      for (const [key, inner] of Object.entries(item as Record<string, unknown>))
        out[clean(key)] = walk(inner);
      return out;
    };
    return walk(value) as T;
  }
}
