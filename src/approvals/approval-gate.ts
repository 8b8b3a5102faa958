import type { ToolCallInfo, ToolCallInterceptor, ToolVerdict } from '../agents/interceptors.ts';
import { journalArgs, toolCallHash } from '../agents/tool-call.ts';
import { identityChain } from '../access/identity-chain.ts';
import { InvalidArgumentError } from '../errors.ts';
import {
  approvalDecided,
  approvalIdOf,
  approvalIdOfSignal,
  approvalRequested,
  approvalSignal,
  checkAssignment,
  finalDeadline,
  planStages,
  type ApproverAssignment,
  type ApproverGroups,
} from './approval-assignment.ts';
import type { PolicyEngine } from '../access/policy-engine.ts';
import type { ToolDefinition } from '../agents/tool.ts';

export const GATE_INTERCEPTOR = 'guard.approval';

/**
 * Which tool calls wait for a person's approval before they run (`guard.approvals.gates`), and who
 * decides: every `irreversible` tool, tools by name, calls a function picks, and calls whose Cedar
 * permit carries `@approval("group:finance")` (with `guard.approvals.policies`; the annotation
 * names the approvers).
 */
export interface GateOptions extends ApproverAssignment {
  irreversible?: boolean;
  tools?: readonly string[];
  when?: (call: ToolCallInfo) => boolean;
  /** Honour `@approval(…)` on the permits that allow a call. Default true when policies are configured. */
  policyAnnotations?: boolean;
}

/** What a gate works with (the guard gives its own): approver groups, the clock, policies, the tools it gated. */
export interface GateParts {
  readonly groups: ApproverGroups;
  readonly clock: () => number;
  /** Who may approve, and which tool calls a policy gates (`@approval`); none: the default rule. */
  readonly policies: PolicyEngine | undefined;
  /** Tools this process gated, by name: edited arguments are checked against their real schema. */
  readonly tools: Map<string, ToolDefinition>;
}

const ANNOTATION = /@approval\s*\(\s*"([^"]*)"\s*\)/;

export function checkGateOptions(options: GateOptions, core: Pick<GateParts, 'groups'>): void {
  if (options.tools !== undefined && !Array.isArray(options.tools))
    throw new InvalidArgumentError('guard.approvals.gates.tools is a list of tool names.');
  if (options.when !== undefined && typeof options.when !== 'function')
    throw new InvalidArgumentError('guard.approvals.gates.when is a function of the call.');
  checkAssignment(options, core.groups, 'guard.approvals.gates');
}

/**
 * The approval gate: a tool interceptor that parks gated calls. The call's intent, the park and
 * `approval.requested` (with the tool's name, arguments and input schema) are committed together,
 * then the run waits holding no worker. `baton.approve` (optionally with edited arguments, checked
 * against the tool's schema) lets it run, once; `baton.deny` or the deadline refuses it, and the
 * model is told. Put it last among tool interceptors: a park skips the ones after it.
 */
export function approvalGate(core: GateParts, options: GateOptions): ToolCallInterceptor {
  const named = new Set(options.tools ?? []);
  const annotations = options.policyAnnotations ?? core.policies !== undefined;
  return {
    name: GATE_INTERCEPTOR,
    before(call, context): ToolVerdict | undefined {
      let approvers = options.approvers;
      let why: string | undefined;
      if (options.irreversible && call.tool.effect === 'irreversible')
        why = `'${call.tool.name}' is irreversible`;
      else if (named.has(call.tool.name)) why = `'${call.tool.name}' needs approval`;
      else if (options.when?.(call)) why = `the gate's condition holds for this call of '${call.tool.name}'`;
      else if (annotations && core.policies) {
        const decision = core.policies.authorize({
          chain: identityChain(context.tenant, call.actor, call.onBehalfOf),
          action: 'InvokeTool',
          resource: { kind: 'tool', name: call.tool.name, effect: call.tool.effect, args: call.args },
          now: core.clock(),
        });
        for (const id of decision.decision === 'allow' ? decision.policies : []) {
          const match = ANNOTATION.exec(core.policies.policy(id)?.text ?? '');
          if (!match) continue;
          why = `policy ${id} asks for approval`;
          const listed = match[1]!
            .split(',')
            .map((entry) => entry.trim())
            .filter(Boolean);
          if (listed.length > 0) approvers = listed;
          break;
        }
      }
      if (why === undefined) return undefined;
      core.tools.set(call.tool.name, call.tool);
      const assignment: ApproverAssignment = {
        ...options,
        ...(approvers === undefined ? {} : { approvers }),
      };
      const stages = planStages(assignment, core.groups, core.clock(), 'guard.approvals.gates');
      const deadline = finalDeadline(stages);
      const who = call.agent === undefined ? call.actor : `Agent '${call.agent}'`;
      return {
        type: 'park',
        reason: `${why}: waiting for a person's approval`,
        signal: approvalSignal(approvalIdOf('tool', call.op)),
        ...(deadline === undefined ? {} : { deadline }),
        events: [
          approvalRequested({
            op: call.op,
            name: call.tool.name,
            kind: 'tool',
            summary: `${who} wants to call ${call.tool.name} (${call.tool.effect}) for ${context.principal}.`,
            requestedBy: context.principal,
            stages,
            tool: {
              name: call.tool.name,
              effect: call.tool.effect,
              args: journalArgs(call.tool, call.args) ?? null,
              inputSchema: call.tool.jsonSchema,
            },
            actor: call.actor,
            onBehalfOf: [...call.onBehalfOf],
            callHash: toolCallHash(call.tool.name, call.args, call, call.grant?.id),
          }),
        ],
      };
    },
    decided(call, decision) {
      // The decision names the exact call it approved: the one asked for, or the edited one.
      const requested = toolCallHash(call.tool.name, call.args, call, call.grant?.id);
      const approved =
        decision.args === undefined
          ? requested
          : toolCallHash(call.tool.name, decision.args, call, call.grant?.id);
      return [
        approvalDecided(call.op, call.tool.name, approvalIdOfSignal(decision.signal), decision, {
          requested,
          approved,
        }),
      ];
    },
  };
}
