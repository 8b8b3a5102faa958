import type * as Cedar from '@cedar-policy/cedar-wasm/nodejs';
import { lazyModule } from '../lazy-module.ts';
import { readFile } from 'node:fs/promises';
import { PolicyLoadError } from './access-errors.ts';
import {
  checkRequest,
  type AccessDecision,
  type AuthorizationRequest,
  type Authorizer,
} from './access-request.ts';
import { toCedarRequest } from './cedar-request.ts';
import { checkGrant, decisionBase, denial } from './grant-authorizer.ts';
import {
  batonSchemaText,
  checkSchema,
  readPolicyFiles,
  splitPolicies,
  validatePolicies,
  type LoadedPolicy,
  type PolicyText,
} from './policy-source.ts';

/** Cedar's WebAssembly build, loaded when policies are first parsed or evaluated. */
const cedar = lazyModule<typeof Cedar>('@cedar-policy/cedar-wasm/nodejs');

export interface PolicyEngineOptions {
  /** Cedar policy files (`policies/*.cedar`), as named in baton.config.ts. */
  files?: readonly string[];
  /** Policy text given directly: a string (reported as `inline`) or named texts. */
  text?: string | PolicyText | readonly PolicyText[];
  /** A schema to validate against instead of Baton's own (a file, or text). It must keep Baton's actions. */
  schema?: { file: string } | PolicyText;
  /**
   * Also check each request's entities and context against the schema. Off by default: Baton builds
   * every request itself in the schema's shape, policies are validated at load, and the check
   * doubles the cost of a decision.
   */
  validateRequests?: boolean;
}

let instances = 0;

/**
 * Baton's Cedar policies, parsed and validated once: default deny, every decision names the
 * policies that determined it.
 *
 * Before Cedar runs, the request is checked against the actor's grant: an action outside it (or
 * under an expired grant, or across tenants) is denied with that reason and no policy is evaluated.
 *
 * @example
 * const policies = await PolicyEngine.load({ files: ['policies/support.cedar'] });
 * const { decision, policies: by } = policies.authorize({
 *   chain: identityChain('acme', 'agent:billing', ['user:alice']),
 *   action: 'InvokeTool',
 *   resource: { kind: 'tool', name: 'payments.refund', effect: 'irreversible', args },
 *   grant,
 * });
 */
export class PolicyEngine implements Authorizer {
  readonly policies: readonly LoadedPolicy[];
  readonly #policySetId: string;
  readonly #schemaName: string;
  readonly #validateRequests: boolean;

  private constructor(policies: readonly LoadedPolicy[], schema: PolicyText, validateRequests: boolean) {
    this.policies = policies;
    this.#validateRequests = validateRequests;
    const n = ++instances;
    this.#policySetId = `baton-policies-${process.pid}-${n}`;
    this.#schemaName = `baton-schema-${process.pid}-${n}`;
    const parsedSchema = cedar().preparseSchema(this.#schemaName, schema.text);
    const parsedPolicies = cedar().preparsePolicySet(this.#policySetId, {
      staticPolicies: Object.fromEntries(policies.map((policy) => [policy.id, policy.text])),
    });
    for (const answer of [parsedSchema, parsedPolicies]) {
      if (answer.type === 'failure') {
        throw new PolicyLoadError({
          problems: answer.errors.map((error) => ({
            file: '(policies)',
            line: undefined,
            column: undefined,
            message: error.message,
          })),
        });
      }
    }
  }

  /**
   * Reads, parses and validates policies against the schema (Cedar strict mode), once. A file that
   * does not parse or validate throws PolicyLoadError naming file, line and column for each problem.
   */
  static async load(options: PolicyEngineOptions): Promise<PolicyEngine> {
    const sources = [...(await readPolicyFiles(options.files ?? [])), ...textSources(options.text)];
    let schema: PolicyText;
    if (options.schema === undefined) schema = { name: 'baton.cedarschema', text: batonSchemaText() };
    else if ('file' in options.schema)
      schema = { name: options.schema.file, text: await readSchema(options.schema.file) };
    else schema = options.schema;
    return PolicyEngine.fromSources(sources, schema, { validateRequests: options.validateRequests ?? false });
  }

  /** As {@link load}, from texts already in memory. */
  static fromSources(
    sources: readonly PolicyText[],
    schema: PolicyText = { name: 'baton.cedarschema', text: batonSchemaText() },
    options: { validateRequests?: boolean } = {},
  ): PolicyEngine {
    checkSchema(schema);
    const policies = splitPolicies(sources);
    validatePolicies(policies, schema, sources);
    return new PolicyEngine(policies, schema, options.validateRequests ?? false);
  }

  /**
   * Decides one request. Default deny: allowed only when a permit applies and no forbid does.
   * Throws UnknownActionError / UnknownPrincipalError for a request that names no Baton action or
   * principal; everything else (grant, tenant, Cedar evaluation errors) is a decision.
   */
  authorize(request: AuthorizationRequest): AccessDecision {
    checkRequest(request);
    const denied = checkGrant(request);
    if (denied) return denied;
    const base = decisionBase(request);

    const call = toCedarRequest(request);
    const answer = cedar().statefulIsAuthorized({
      ...call,
      preparsedPolicySetId: this.#policySetId,
      ...(this.#validateRequests ? { preparsedSchemaName: this.#schemaName, validateRequest: true } : {}),
    });
    if (answer.type === 'failure')
      return denial(
        request,
        'evaluation error',
        answer.errors.map((error) => error.message),
      );
    const { decision, diagnostics } = answer.response;
    const policies = [...diagnostics.reason].sort();
    const errors = diagnostics.errors.map((error) => `${error.policyId}: ${error.error.message}`);
    return {
      decision,
      reason: decision === 'allow' || policies.length > 0 ? 'policy' : 'default deny',
      policies,
      errors,
      ...base,
    };
  }

  /** The loaded policy with this id, for explanations (`file:line`). */
  policy(id: string): LoadedPolicy | undefined {
    return this.policies.find((policy) => policy.id === id);
  }
}

function textSources(text: PolicyEngineOptions['text']): PolicyText[] {
  if (text === undefined) return [];
  if (typeof text === 'string') return [{ name: 'inline', text }];
  if (Array.isArray(text)) return [...(text as readonly PolicyText[])];
  return [text as PolicyText];
}

async function readSchema(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new PolicyLoadError({
      problems: [
        { file, line: undefined, column: undefined, message: `cannot be read: ${(error as Error).message}` },
      ],
    });
  }
}
