import { BatonError } from '../errors.ts';

/** A principal that is not `kind:name` with a known kind (`user`, `service`, `agent`, `workflow`). */
export class UnknownPrincipalError extends BatonError {
  readonly principal: string;
  constructor(args: { principal: string; reason: string }) {
    super(
      'UNKNOWN_PRINCIPAL',
      `'${args.principal}' is not a principal Baton knows: ${args.reason}. ` +
        `Write 'user:alice', 'service:billing-bot', 'agent:writer' or 'workflow:support'.`,
    );
    this.principal = args.principal;
  }
}

/** An action name that is not one of Baton's Cedar actions, or a resource of the wrong kind for it. */
export class UnknownActionError extends BatonError {
  readonly action: string;
  constructor(args: { action: string; known: readonly string[]; reason?: string }) {
    super(
      'UNKNOWN_ACTION',
      args.reason ??
        `'${args.action}' is not an action Baton authorizes. Known actions: ${args.known.join(', ')}.`,
    );
    this.action = args.action;
  }
}

/** A grant action pattern that cannot be read (`tool:payments.refund`, `tool:search.*`, `handoff:*`). */
export class InvalidGrantError extends BatonError {
  constructor(message: string) {
    super('INVALID_GRANT', message);
  }
}

/** The grant has expired: nothing can be done or delegated under it. */
export class GrantExpiredError extends BatonError {
  readonly grantId: string;
  readonly expiresAt: string;
  constructor(args: { grantId: string; expiresAt: string; now: number }) {
    super(
      'GRANT_EXPIRED',
      `Grant ${args.grantId} expired at ${args.expiresAt} (now ${new Date(args.now).toISOString()}); ` +
        `nothing can be done or delegated under it. Start the work again under a fresh grant.`,
    );
    this.grantId = args.grantId;
    this.expiresAt = args.expiresAt;
  }
}

/** A callee asked for actions its parent does not hold; delegation only narrows. */
export class DelegationWidensError extends BatonError {
  readonly parentGrantId: string;
  /** The requested actions the parent grant does not cover. */
  readonly actions: readonly string[];
  constructor(args: {
    parentGrantId: string;
    holder: string | undefined;
    actions: readonly string[];
    held: readonly string[];
  }) {
    const who = args.holder ? `${args.holder} asks` : 'The callee asks';
    super(
      'DELEGATION_WIDENS',
      `${who} for ${args.actions.map((action) => `'${action}'`).join(', ')}, which grant ${args.parentGrantId} ` +
        `does not hold (it holds ${args.held.length ? args.held.join(', ') : 'nothing'}). Delegation only ` +
        `narrows: declare fewer needs on the callee, or start the parent under a wider grant.`,
    );
    this.parentGrantId = args.parentGrantId;
    this.actions = args.actions;
  }
}

/** Delegating would make the chain of grants deeper than `maxDelegationDepth` (default 8). */
export class DelegationDepthError extends BatonError {
  readonly depth: number;
  readonly limit: number;
  constructor(args: { depth: number; limit: number; parentGrantId: string }) {
    super(
      'DELEGATION_DEPTH',
      `Delegating grant ${args.parentGrantId} would make a chain ${args.depth} deep, over the limit of ` +
        `${args.limit} (option maxDepth). Flatten the agent hierarchy or raise the limit.`,
    );
    this.depth = args.depth;
    this.limit = args.limit;
  }
}

/** One problem in a policy or schema file, where it is. */
export interface PolicyProblem {
  file: string;
  /** 1-based; undefined when Cedar gave no position. */
  line: number | undefined;
  column: number | undefined;
  message: string;
  policyId?: string;
}

/** A policy file that does not parse, or policies that do not validate against the schema. */
export class PolicyLoadError extends BatonError {
  readonly problems: readonly PolicyProblem[];
  constructor(args: { problems: readonly PolicyProblem[] }) {
    const lines = args.problems.map(formatProblem);
    super(
      'POLICY_LOAD',
      `The Cedar policies cannot be loaded:\n${lines.map((line) => `  ${line}`).join('\n')}`,
    );
    this.problems = args.problems;
  }
}

export function formatProblem(problem: PolicyProblem): string {
  const where =
    problem.line === undefined ? problem.file : `${problem.file}:${problem.line}:${problem.column ?? 1}`;
  const policy = problem.policyId ? ` (policy ${problem.policyId})` : '';
  return `${where}: ${problem.message}${policy}`;
}

/** A denied authorization, for callers that prefer a throw to a decision (`assertAllowed`). */
export class AccessDeniedError extends BatonError {
  readonly action: string;
  readonly resource: string;
  readonly actor: string;
  readonly reason: string;
  readonly policies: readonly string[];
  constructor(args: {
    actor: string;
    action: string;
    resource: string;
    reason: string;
    policies: readonly string[];
  }) {
    const by = args.policies.length ? ` by ${args.policies.join(', ')}` : '';
    super(
      'ACCESS_DENIED',
      `${args.actor} may not ${args.action} ${args.resource}: denied (${args.reason})${by}.`,
    );
    this.action = args.action;
    this.resource = args.resource;
    this.actor = args.actor;
    this.reason = args.reason;
    this.policies = args.policies;
  }
}

/** A tool asked for a secret the calling identity's grant does not hold (`secret:<name>`). */
export class SecretAccessDeniedError extends BatonError {
  readonly secret: string;
  constructor(args: { secret: string; identity: string; grantId: string | undefined; reason: string }) {
    super(
      'SECRET_ACCESS_DENIED',
      `${args.identity} may not read secret '${args.secret}': ${args.reason}. ` +
        `Add 'secret:${args.secret}' to the grant${args.grantId ? ` (${args.grantId})` : ''} of the identity that needs it.`,
    );
    this.secret = args.secret;
  }
}

/** The deployment's signing key cannot be read or created. */
export class SigningKeyError extends BatonError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('SIGNING_KEY', message, { cause: options.cause });
  }
}

/** A file that is not a Baton audit bundle (or one of a format this Baton does not read). */
export class InvalidBundleError extends BatonError {
  constructor(message: string) {
    super('INVALID_BUNDLE', message);
  }
}

/** The witness log of checkpoints cannot be read or written. */
export class WitnessLogError extends BatonError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('WITNESS_LOG', message, { cause: options.cause });
  }
}
