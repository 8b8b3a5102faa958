// The public surface of 'baton/guard': guardrails, budgets, loop detection, approvals.
export { Guard, stopError, type GuardOptions } from './guard.ts';
export { guardLayer, type GuardContext, type GuardLayerParts } from './guard-layer.ts';
export {
  guardrail,
  toGuardrail,
  tripwire,
  pass,
  block,
  rewrite,
  GUARD_STAGES,
  type Guardrail,
  type GuardrailFunction,
  type GuardrailLike,
  type GuardrailVerdict,
  type GuardrailContext,
  type GuardModels,
} from './guardrail.ts';
export { all, any, sequence } from './guardrail-compose.ts';
export { schema } from './schema-guardrail.ts';
export { maxLength } from './length-guardrail.ts';
export { denyList } from './deny-list.ts';
export {
  redaction,
  redactText,
  luhnValid,
  REDACTION_PATTERNS,
  type RedactionOptions,
  type RedactionPattern,
} from './redaction.ts';
export { judge, type JudgeOptions } from './judge-guardrail.ts';
export { runGuardrails, type GuardrailsOutcome } from './run-guardrails.ts';
export { toolGuardrails, GUARDRAILS_INTERCEPTOR, type ToolGuardrails } from './tool-guardrails.ts';
export { agentGuardrails } from './agent-guardrails.ts';
export type { BudgetLimits, BudgetOptions, TenantBudget } from './budget.ts';
export { budgetInterceptors, BUDGET_INTERCEPTOR, type BudgetBreach } from './budget-interceptor.ts';
export { loopInterceptors, stalledTurns, LOOP_INTERCEPTOR, type LoopOptions } from './loop-detector.ts';
export { requestApproval, type ApprovalRequest, type ApprovalDecision } from '../approvals/approval.ts';
export { approvalGate, GATE_INTERCEPTOR, type GateOptions } from '../approvals/approval-gate.ts';
export {
  approvalSignal,
  approvalIdOf,
  type ApprovalKind,
  type ApproverAssignment,
  type ApprovalRouting,
  type ApproverGroups,
  type ApprovalSignalPayload,
} from '../approvals/approval-assignment.ts';
export { approvalRight, type ApprovalRight } from '../approvals/approval-rights.ts';
export {
  ApprovalDesk,
  type ApproveOptions,
  type DenyOptions,
  type ApprovalReceipt,
  type PendingApproval,
  type ApprovalsQuery,
} from '../approvals/approval-desk.ts';
export {
  GuardrailBlockedError,
  BudgetExceededError,
  BudgetConfigError,
  LoopDetectedError,
  type BudgetScope,
} from './guard-errors.ts';
export {
  ApprovalNotFoundError,
  ApprovalAlreadyDecidedError,
  ApprovalClosedError,
  ApprovalExpiredError,
  ApprovalForbiddenError,
  InvalidApprovalArgumentsError,
} from '../approvals/approval-errors.ts';
