import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Caller } from './authenticate.ts';
import { HttpError } from './http-error.ts';

/** What a stream token grants: reading one run's live stream, in one tenant, as one principal, until `expiresAt`. */
export interface StreamTokenClaims {
  runId: string;
  tenant: string;
  principal: string;
  /** Epoch ms. */
  expiresAt: number;
}

/**
 * Short-lived tokens for a browser's `EventSource`, which cannot send an Authorization header: an
 * authenticated caller asks for one (`POST /api/runs/{runId}/stream-token`) and opens
 * `/api/runs/{runId}/live?token=…`. A token is HMAC-SHA256-signed claims (run, tenant, principal,
 * expiry); it opens that run's live streams and nothing else. The key is the server's
 * (`streamTokenSecret`, or random per server: tokens then work only on the server that made them).
 */
export class StreamTokens {
  readonly #key: Buffer;
  readonly #ttlMs: number;
  readonly #clock: () => number;

  constructor(options: { secret?: string; ttlMs: number; clock: () => number }) {
    this.#key = options.secret ? Buffer.from(options.secret, 'utf8') : randomBytes(32);
    this.#ttlMs = options.ttlMs;
    this.#clock = options.clock;
  }

  issue(caller: Caller, runId: string): { token: string; claims: StreamTokenClaims } {
    const claims: StreamTokenClaims = {
      runId,
      tenant: caller.tenant,
      principal: caller.principal,
      expiresAt: this.#clock() + this.#ttlMs,
    };
    const body = Buffer.from(JSON.stringify(claims), 'utf8').toString('base64url');
    return { token: `${body}.${this.#sign(body)}`, claims };
  }

  /** The caller a token stands for, when it is genuine, unexpired and for `runId`; else 401/403. */
  verify(token: string, runId: string): Caller {
    const [body, signature, extra] = token.split('.');
    if (!body || !signature || extra !== undefined || !this.#genuine(body, signature))
      throw new HttpError(
        'UNAUTHENTICATED',
        'The stream token is not one this server issued (or was altered).',
      );
    let claims: StreamTokenClaims;
    try {
      claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as StreamTokenClaims;
    } catch {
      throw new HttpError('UNAUTHENTICATED', 'The stream token is malformed.');
    }
    if (claims.expiresAt <= this.#clock())
      throw new HttpError(
        'UNAUTHENTICATED',
        'The stream token has expired; ask for a new one (POST /api/runs/{runId}/stream-token).',
      );
    if (claims.runId !== runId)
      throw new HttpError(
        'FORBIDDEN',
        `The stream token is for another run; it opens only the stream of run ${claims.runId}.`,
      );
    return { principal: claims.principal, tenant: claims.tenant, via: 'stream-token' };
  }

  #sign(body: string): string {
    return createHmac('sha256', this.#key).update(body).digest('base64url');
  }

  #genuine(body: string, signature: string): boolean {
    const expected = Buffer.from(this.#sign(body));
    const given = Buffer.from(signature);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }
}
