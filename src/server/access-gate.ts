import type { AccessDecision, AccessResource, BatonAction } from '../access/access-request.ts';
import { identityChain } from '../access/identity-chain.ts';
import type { PolicyEngine } from '../access/policy-engine.ts';
import type { RunRecord } from '../store/store.ts';
import type { Caller } from './authenticate.ts';
import { HttpError } from './http-error.ts';

/**
 * Authorizes each API action at the door. Tenants are always isolated: every run is read in the
 * caller's tenant, so another tenant's run is not found (404), never forbidden. With a policy
 * engine, the caller must also be allowed by the same Cedar policies as everything else (ReadRun,
 * SignalRun, CancelRun, Approve, StartRun; default deny): a denial is FORBIDDEN (403) naming the
 * reason and the policies that decided. Without one, tenant isolation is the whole rule.
 */
export class AccessGate {
  readonly #policies: PolicyEngine | undefined;

  constructor(policies: PolicyEngine | undefined) {
    this.#policies = policies;
  }

  /** The Cedar policies callers are authorized by, when the server has them. */
  get policies(): PolicyEngine | undefined {
    return this.#policies;
  }

  get enforcing(): boolean {
    return this.#policies !== undefined;
  }

  /** The decision, or undefined when no policy engine is configured. Throws nothing. */
  decide(
    caller: Caller,
    action: BatonAction,
    resource: AccessResource,
    approval?: string,
  ): AccessDecision | undefined {
    if (!this.#policies) return undefined;
    return this.#policies.authorize({
      chain: identityChain(caller.tenant, caller.principal),
      action,
      resource,
      ...(approval === undefined ? {} : { approval }),
    });
  }

  /** Throws FORBIDDEN unless allowed. */
  check(caller: Caller, action: BatonAction, resource: AccessResource, approval?: string): void {
    const decision = this.decide(caller, action, resource, approval);
    if (!decision || decision.decision === 'allow') return;
    const by = decision.policies.length > 0 ? ` (${decision.policies.join(', ')})` : '';
    throw new HttpError(
      'FORBIDDEN',
      `${caller.principal} may not ${action} ${decision.resource}: ${decision.reason}${by}.`,
      {
        details: {
          action,
          resource: decision.resource,
          reason: decision.reason,
          policies: decision.policies,
        },
      },
    );
  }

  /** True when the caller may take `action` on the run (for filtering lists). */
  allowsRun(caller: Caller, action: BatonAction, run: RunRecord): boolean {
    const decision = this.decide(caller, action, runResource(run));
    return !decision || decision.decision === 'allow';
  }

  /** True when the caller may decide an approval (`name`) of the run (always, without policies). */
  allowsApproval(caller: Caller, run: RunRecord, name: string): boolean {
    const decision = this.decide(caller, 'Approve', runResource(run), name);
    return !decision || decision.decision === 'allow';
  }

  checkRun(caller: Caller, action: BatonAction, run: RunRecord, approval?: string): void {
    this.check(caller, action, runResource(run), approval);
  }
}

export function runResource(run: RunRecord): AccessResource {
  return {
    kind: 'run',
    runId: run.runId,
    workflow: run.workflow,
    tenant: run.tenant,
    principal: run.principal,
    status: run.status,
  };
}
