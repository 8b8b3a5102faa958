import {
  createRemoteJWKSet,
  errors as joseErrors,
  importJWK,
  importSPKI,
  jwtVerify,
  type JWK,
  type JWTVerifyGetKey,
} from 'jose';
import { UnknownPrincipalError } from '../access/access-errors.ts';
import { parsePrincipal } from '../access/principal.ts';
import { ConfigError } from '../errors.ts';
import { HttpError } from './http-error.ts';

/** An API token's holder: the principal requests made with it act as, in its tenant. */
export interface ApiTokenHolder {
  /** `user:alice`, `service:ci`. */
  principal: string;
  /** Default `default`. */
  tenant?: string;
}

/** How JWTs are verified: one key source (an HS256 secret, a public key, or a JWKS URL). */
export interface JwtOptions {
  /** A shared secret (HS256 unless `algorithms` says otherwise). */
  secret?: string;
  /** A public key: PEM (SPKI) or a JWK. Name its algorithm in `algorithms` for a PEM. */
  publicKey?: string | JWK;
  /** A JWKS endpoint (`https://issuer/.well-known/jwks.json`); keys are fetched and cached by `kid`. */
  jwksUrl?: string;
  /** Accepted algorithms. Default `['HS256']` with a secret; `['RS256', 'ES256', 'EdDSA']` otherwise. */
  algorithms?: readonly string[];
  issuer?: string;
  audience?: string;
  /** The claim naming the tenant. Default `tenant`. */
  tenantClaim?: string;
  /** The tenant of tokens without the claim. Default: such tokens are refused. */
  defaultTenant?: string;
  /**
   * Refuse tokens without an expiry (`exp`): a token that never expires cannot be contained once it
   * leaks. Default true; false accepts them.
   */
  requireExpiry?: boolean;
  /**
   * How far the issuer's clock may run ahead or behind, in seconds: a token issued (`iat`) further in
   * the future is refused, and `exp`/`nbf` are checked with this slack. Default 60.
   */
  clockToleranceSeconds?: number;
}

/**
 * Who may call the API. API tokens are looked up in constant time (every configured token is
 * compared, by SHA-256 digest, whatever matches); JWTs are verified with `jose`, `sub` naming the
 * principal (`alice` reads as `user:alice`; `service:ci` as itself) and a claim naming the tenant.
 * A JWT must expire (`exp`) and must not be issued in the future (`iat`), unless configured
 * otherwise. A caller is a user or a service, never an agent or a workflow (those act inside runs,
 * on behalf of a caller). The caller's identity comes only from its credential: no request field
 * names who the caller is.
 */
export interface AuthOptions {
  /** token → holder. Tokens must be at least 16 characters. */
  tokens?: Readonly<Record<string, ApiTokenHolder>>;
  jwt?: JwtOptions;
}

/** The authenticated caller of a request. */
export interface Caller {
  principal: string;
  tenant: string;
  /** How the caller proved who it is: an API token, a JWT, or a stream token (one run's live stream only). */
  via: 'token' | 'jwt' | 'stream-token';
}

const MIN_TOKEN_LENGTH = 16;
const DEFAULT_CLOCK_TOLERANCE_S = 60;

/** Callers are people and programs: agents and workflows act only inside runs, for a caller. */
function isCallerPrincipal(principal: string): boolean {
  return principal.startsWith('user:') || principal.startsWith('service:');
}

interface TokenEntry {
  digest: Uint8Array;
  holder: Required<ApiTokenHolder>;
}

interface JwtVerifier {
  key: JWTVerifyGetKey | Uint8Array | CryptoKey;
  options: JwtOptions;
  algorithms: string[];
}
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** Checks the Authorization header of requests against the configured tokens and JWT keys. */
export class Authenticator {
  readonly #tokens: { digest: Uint8Array; holder: Required<ApiTokenHolder> }[];
  readonly #jwt: JwtVerifier | undefined;

  private constructor(tokens: TokenEntry[], jwt: JwtVerifier | undefined) {
    this.#tokens = tokens;
    this.#jwt = jwt;
  }

  /** Checks the configuration at the door: ConfigError for short tokens, bad principals, no key source. */
  static async create(options: AuthOptions): Promise<Authenticator> {
    const entries = Object.entries(options.tokens ?? {});
    if (entries.length === 0 && !options.jwt) {
      throw new ConfigError(
        'The server needs a way to authenticate callers: give auth.tokens, auth.jwt, or both.',
      );
    }
    const tokens: TokenEntry[] = [];
    for (const [token, holder] of entries) {
      if (token.length < MIN_TOKEN_LENGTH) {
        throw new ConfigError(
          `An API token of ${holder.principal} is ${token.length} characters; use at least ${MIN_TOKEN_LENGTH} (random).`,
        );
      }
      const tenant = holder.tenant ?? 'default';
      checkPrincipal(holder.principal, tenant, 'auth.tokens');
      if (!isCallerPrincipal(holder.principal)) {
        throw new ConfigError(
          `auth.tokens: an API token's holder is a user or a service, not ${holder.principal} (agents and workflows act only inside runs).`,
        );
      }
      tokens.push({ digest: await sha256(token), holder: { principal: holder.principal, tenant } });
    }
    return new Authenticator(tokens, options.jwt ? await jwtKey(options.jwt) : undefined);
  }

  /** The caller of a request, from `Authorization: Bearer <token>`; UNAUTHENTICATED (401) otherwise. */
  async authenticate(authorization: string | null | undefined): Promise<Caller> {
    if (!authorization) throw unauthenticated('This API needs a token: send Authorization: Bearer <token>.');
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match) throw unauthenticated('The Authorization header must read: Bearer <token>.');
    const token = match[1]!;
    const holder = await this.#lookup(token);
    if (holder) return { ...holder, via: 'token' };
    if (this.#jwt && JWT_SHAPE.test(token)) return this.#verifyJwt(token, this.#jwt);
    throw unauthenticated('The token is not valid.');
  }

  async #lookup(token: string): Promise<Required<ApiTokenHolder> | undefined> {
    const digest = await sha256(token);
    let found: Required<ApiTokenHolder> | undefined;
    // Every token is compared, the whole digest each time: the time taken says nothing about which matched.
    for (const entry of this.#tokens) {
      if (constantTimeEqual(entry.digest, digest)) found = entry.holder;
    }
    return found;
  }

  async #verifyJwt(token: string, jwt: JwtVerifier): Promise<Caller> {
    let payload: Record<string, unknown>;
    try {
      const verified = await jwtVerify(token, jwt.key as Parameters<typeof jwtVerify>[1], {
        algorithms: jwt.algorithms,
        ...(jwt.options.issuer === undefined ? {} : { issuer: jwt.options.issuer }),
        ...(jwt.options.audience === undefined ? {} : { audience: jwt.options.audience }),
        clockTolerance: jwt.options.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_S,
      });
      payload = verified.payload;
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw unauthenticated('The token has expired.');
      if (error instanceof joseErrors.JWTClaimValidationFailed)
        throw unauthenticated(`The token's ${error.claim} claim is not accepted.`);
      throw unauthenticated('The token is not valid.');
    }
    const subject = payload.sub;
    if (typeof subject !== 'string' || subject === '')
      throw unauthenticated('The token has no subject (sub).');
    const claim = jwt.options.tenantClaim ?? 'tenant';
    const tenant = payload[claim] ?? jwt.options.defaultTenant;
    if (typeof tenant !== 'string' || tenant === '')
      throw unauthenticated(`The token names no tenant (claim '${claim}').`);
    const principal = subject.includes(':') ? subject : `user:${subject}`;
    try {
      parsePrincipal(principal, tenant);
    } catch (error) {
      if (UnknownPrincipalError.isInstance(error))
        throw unauthenticated(`The token's subject is not a principal: ${error.message}`);
      throw error;
    }
    if (!isCallerPrincipal(principal)) {
      throw unauthenticated(
        `The token's subject ${principal} claims an identity that acts only inside runs; a caller is a user or a service.`,
      );
    }
    if (payload.exp === undefined && jwt.options.requireExpiry !== false) {
      throw unauthenticated(
        'The token never expires (it has no exp claim); issue tokens with an expiry (or set auth.jwt.requireExpiry: false).',
      );
    }
    const tolerance = jwt.options.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_S;
    if (typeof payload.iat === 'number' && payload.iat > Date.now() / 1000 + tolerance) {
      throw unauthenticated(
        `The token was issued in the future (iat ${new Date(payload.iat * 1000).toISOString()}); check the issuer's clock (auth.jwt.clockToleranceSeconds).`,
      );
    }
    return { principal, tenant, via: 'jwt' };
  }
}

function unauthenticated(message: string): HttpError {
  return new HttpError('UNAUTHENTICATED', message);
}

function checkPrincipal(principal: string, tenant: string, where: string): void {
  try {
    parsePrincipal(principal, tenant);
  } catch (error) {
    throw new ConfigError(`${where}: ${(error as Error).message}`);
  }
}

async function jwtKey(options: JwtOptions): Promise<JwtVerifier> {
  const sources = [options.secret, options.publicKey, options.jwksUrl].filter(
    (source) => source !== undefined,
  );
  if (sources.length !== 1) {
    throw new ConfigError('auth.jwt needs exactly one of secret, publicKey or jwksUrl.');
  }
  if (options.secret !== undefined) {
    if (options.secret.length < 32) throw new ConfigError('auth.jwt.secret must be at least 32 characters.');
    const algorithms = [...(options.algorithms ?? ['HS256'])];
    return { key: new TextEncoder().encode(options.secret), options, algorithms };
  }
  const algorithms = [...(options.algorithms ?? ['RS256', 'ES256', 'EdDSA'])];
  if (options.jwksUrl !== undefined) {
    let url: URL;
    try {
      url = new URL(options.jwksUrl);
    } catch {
      throw new ConfigError(`auth.jwt.jwksUrl is not a URL: ${options.jwksUrl}`);
    }
    return { key: createRemoteJWKSet(url), options, algorithms };
  }
  const publicKey = options.publicKey!;
  try {
    if (typeof publicKey === 'string') {
      if (options.algorithms?.length !== 1) {
        throw new ConfigError(
          'auth.jwt.publicKey as PEM needs its one algorithm in auth.jwt.algorithms (e.g. ["RS256"]).',
        );
      }
      return { key: await importSPKI(publicKey, algorithms[0]!), options, algorithms };
    }
    const alg = publicKey.alg ?? options.algorithms?.[0];
    return { key: await importJWK(publicKey, alg), options, algorithms };
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`auth.jwt.publicKey cannot be read: ${(error as Error).message}`, { cause: error });
  }
}

async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
}

function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  let difference = a.length ^ b.length;
  for (let index = 0; index < a.length; index++) difference |= a[index]! ^ (b[index] ?? 0);
  return difference === 0;
}
