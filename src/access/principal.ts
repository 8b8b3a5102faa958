import { UnknownPrincipalError } from './access-errors.ts';

/**
 * The kinds of identity Baton knows. People and programs that start runs are `user` and `service`
 * principals; `agent` and `workflow` identities act inside runs, always on behalf of a principal.
 */
export type PrincipalKind = 'user' | 'service' | 'agent' | 'workflow';

export const PRINCIPAL_KINDS: readonly PrincipalKind[] = ['user', 'service', 'agent', 'workflow'];

/** An identity in a tenant, as `kind:name` (`user:alice`, `service:billing-bot`, `agent:writer`). */
export interface Principal {
  readonly kind: PrincipalKind;
  readonly name: string;
  readonly tenant: string;
}

const NAME = /^[A-Za-z0-9_.@+-][A-Za-z0-9_.@+:/-]{0,127}$/;

/**
 * Reads `kind:name` into a {@link Principal}. Throws UnknownPrincipalError for an unknown kind or a
 * malformed name, before anything is authorized or journaled.
 *
 * @example parsePrincipal('user:alice', 'acme') // { kind: 'user', name: 'alice', tenant: 'acme' }
 */
export function parsePrincipal(text: string, tenant: string): Principal {
  if (typeof text !== 'string')
    throw new UnknownPrincipalError({ principal: String(text), reason: 'it is not a string' });
  const colon = text.indexOf(':');
  if (colon <= 0)
    throw new UnknownPrincipalError({ principal: text, reason: "it does not read 'kind:name'" });
  const kind = text.slice(0, colon);
  const name = text.slice(colon + 1);
  if (!PRINCIPAL_KINDS.includes(kind as PrincipalKind)) {
    throw new UnknownPrincipalError({
      principal: text,
      reason: `the kind '${kind}' is none of ${PRINCIPAL_KINDS.join(', ')}`,
    });
  }
  if (!NAME.test(name)) {
    throw new UnknownPrincipalError({
      principal: text,
      reason: `the name '${name}' must be 1–128 letters, digits or . _ - @ + : / (not starting with : or /)`,
    });
  }
  return { kind: kind as PrincipalKind, name, tenant };
}

/** `user:alice` */
export function formatPrincipal(principal: Pick<Principal, 'kind' | 'name'>): string {
  return `${principal.kind}:${principal.name}`;
}

/** True when `text` reads as a principal Baton knows. */
export function isPrincipal(text: string): boolean {
  try {
    parsePrincipal(text, '');
    return true;
  } catch {
    return false;
  }
}
