import type { Grant } from '../access/grant.ts';

/** Who performs a call: the actor, the chain it acts for, and the grant it holds (if any). */
export interface AgentScope {
  actor: string;
  onBehalfOf: readonly string[];
  grant?: Grant | undefined;
}

/** The `actor` and `onBehalfOf` of the events a call journals. */
export interface EventAuthors {
  actor: string;
  onBehalfOf: string[];
}

/** The authors of a scope's events. */
export function authorsOf(scope: AgentScope): EventAuthors {
  return { actor: scope.actor, onBehalfOf: [...scope.onBehalfOf] };
}
