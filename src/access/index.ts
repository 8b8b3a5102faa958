// The public surface of 'baton/access': identities, delegated grants, Cedar policies, secrets,
// tamper evidence (signed checkpoints, verification, audit bundles) and audit.
export {
  AccessControl,
  type AccessOptions,
  type GrantSpec,
  type GrantPolicy,
  type GrantPolicyRequest,
} from './access-control.ts';
export { accessLayer, type AccessContext, type AccessChildOptions } from './access-layer.ts';
export { parsePrincipal, formatPrincipal, type Principal, type PrincipalKind } from './principal.ts';
export {
  identityChain,
  chainOf,
  actingFor,
  chainRoot,
  describeChain,
  type IdentityChain,
} from './identity-chain.ts';
export { createGrant, parseGrant, grantAllows, type Grant, type GrantInput } from './grant.ts';
export { delegate, type DelegationNeeds, type DelegationOptions } from './delegate.ts';
export { grantOf } from './run-grant.ts';
export { authorizeByGrant } from './grant-authorizer.ts';
export {
  authorizeDelegationDurably,
  authorizeDelegationInOperation,
  decideDelegation,
  type DelegationRequest,
  type DelegationDecision,
} from './authorize-delegation.ts';
export { explainDecision } from './explain-decision.ts';
export { resolvePolicyFiles } from './policy-files.ts';
export { actionMatches, patternCovers } from './action-pattern.ts';
export {
  BATON_ACTIONS,
  type BatonAction,
  type AccessResource,
  type AuthorizationRequest,
  type AccessDecision,
  type DecisionReason,
  type Authorizer,
} from './access-request.ts';
export { PolicyEngine, type PolicyEngineOptions } from './policy-engine.ts';
export {
  authorizeDurably,
  authorizeInOperation,
  assertAllowed,
  type DurableAuthorizationRequest,
  type DurableAuthorizationOptions,
} from './authorize-durably.ts';
// The access layer's secret broker; the agents layer takes any SecretResolver (its forAgents() is one).
export {
  SecretBroker as ScopedSecretBroker,
  envSecrets,
  mapSecrets,
  type SecretSource,
  type SecretIdentity,
  type SecretResolver,
  type SecretRequest,
} from './secret-broker.ts';
export { redact, REDACTED } from './redact.ts';
export { SigningKey, type PublicKeyJwk, type PublicKeyInput, type SigningKeyOptions } from './signing-key.ts';
export { signCheckpoint, verifyCheckpoint } from './checkpoint.ts';
export { CheckpointSigner, type SigningOptions, type CheckpointSignerOptions } from './checkpoint-signer.ts';
export {
  verifyRun,
  verifyAll,
  describeProblem,
  type RunVerification,
  type VerificationProblem,
  type VerifyAllReport,
  type VerifyOptions,
  type EvidenceRules,
} from './verify-run.ts';
export { verifyChain, type ChainVerification, type ChainBreak } from '../journal/hash-chain.ts';
export { WitnessLog, type WitnessEntry, type WitnessRead } from './witness-log.ts';
export { runView } from './run-view.ts';
export type { RunEvidence, RunFacts, RecordDisagreement } from '../journal/run-facts.ts';
export {
  exportBundle,
  verifyBundle,
  type AuditBundle,
  type BundleVerification,
  type BundleRules,
} from './audit-bundle.ts';
export { audit, formatAuditTable, type AuditQuery, type AuditEntry } from './audit.ts';
export {
  UnknownPrincipalError,
  UnknownActionError,
  InvalidGrantError,
  GrantExpiredError,
  DelegationWidensError,
  DelegationDepthError,
  PolicyLoadError,
  AccessDeniedError,
  SecretAccessDeniedError,
  SigningKeyError,
  InvalidBundleError,
  type PolicyProblem,
} from './access-errors.ts';
