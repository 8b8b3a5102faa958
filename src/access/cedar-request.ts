import type { CedarValueJson, Context, EntityJson, EntityUidJson } from '@cedar-policy/cedar-wasm/nodejs';
import type { AccessResource, AuthorizationRequest } from './access-request.ts';
import { chainDepth, chainRoot } from './identity-chain.ts';
import { parsePrincipal, type PrincipalKind } from './principal.ts';

const ENTITY_TYPE: Record<PrincipalKind, string> = {
  user: 'User',
  service: 'Service',
  agent: 'Agent',
  workflow: 'Workflow',
};

export interface CedarRequest {
  principal: EntityUidJson;
  action: EntityUidJson;
  resource: EntityUidJson;
  context: Context;
  entities: EntityJson[];
}

/** The largest number of argument tags a Tool entity gets; deeper or later arguments are left out. */
const MAX_TAGS = 512;
const MAX_TAG_DEPTH = 8;

/**
 * Translates a Baton request into Cedar's: the actor as principal (a member of its tenant), the
 * action, the resource entity (a tool with its call's arguments as tags, an agent, a workflow or a
 * run), and the Request context (tenant, actor, chain, root, depth, grant).
 */
export function toCedarRequest(request: AuthorizationRequest): CedarRequest {
  const { chain } = request;
  const tenant: EntityUidJson = { type: 'Tenant', id: chain.tenant };
  const actor = parsePrincipal(chain.actor, chain.tenant);
  const principal: EntityUidJson = { type: ENTITY_TYPE[actor.kind], id: actor.name };
  const entities: EntityJson[] = [
    { uid: tenant, attrs: {}, parents: [] },
    { uid: principal, attrs: {}, parents: [tenant] },
  ];
  const resource = resourceEntity(request.resource, tenant);
  // An agent handing off to itself names one entity twice; Cedar takes each entity once.
  if (!sameEntity(resource.uid, principal)) entities.push(resource);
  const context: Context = {
    tenant: { __entity: { type: 'Tenant', id: chain.tenant } },
    actor: chain.actor,
    chain: [...chain.onBehalfOf],
    root: chainRoot(chain),
    depth: chainDepth(chain),
    grant: request.grant?.id ?? '',
  };
  if (request.action === 'Approve') context.approval = request.approval ?? '';
  return {
    principal,
    action: { type: 'Action', id: request.action },
    resource: resource.uid,
    context,
    entities,
  };
}

function sameEntity(a: EntityUidJson, b: EntityUidJson): boolean {
  const x = '__entity' in a ? a.__entity : a;
  const y = '__entity' in b ? b.__entity : b;
  return x.type === y.type && x.id === y.id;
}

function resourceEntity(resource: AccessResource, tenant: EntityUidJson): EntityJson {
  switch (resource.kind) {
    case 'tool':
      return {
        uid: { type: 'Tool', id: resource.name },
        attrs: { effect: resource.effect ?? 'unknown' },
        parents: [],
        tags: flattenArguments(resource.args),
      };
    case 'agent':
      return { uid: { type: 'Agent', id: resource.name }, attrs: {}, parents: [tenant] };
    case 'workflow':
      return { uid: { type: 'Workflow', id: resource.name }, attrs: {}, parents: [tenant] };
    case 'run':
      return {
        uid: { type: 'Run', id: resource.runId },
        attrs: {
          workflow: resource.workflow,
          principal: resource.principal,
          status: resource.status ?? 'unknown',
        },
        parents: [{ type: 'Tenant', id: resource.tenant }],
      };
  }
}

/**
 * A tool call's arguments as string tags on dotted paths: `{ to: 'a@b', card: { number: '4' },
 * items: [{ sku: 'x' }] }` gives `to`, `card.number`, `items.0.sku`. Numbers and booleans are
 * written as JSON writes them; null as `null`.
 */
export function flattenArguments(args: unknown): Record<string, CedarValueJson> {
  const tags: Record<string, CedarValueJson> = {};
  let count = 0;
  const walk = (value: unknown, path: string, depth: number): void => {
    if (count >= MAX_TAGS) return;
    if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return;
    if (value === null || typeof value !== 'object') {
      if (path !== '') {
        tags[path] = typeof value === 'string' ? value : (JSON.stringify(value) ?? 'null');
        count++;
      }
      return;
    }
    if (depth >= MAX_TAG_DEPTH) return;
    const entries: [string, unknown][] = Array.isArray(value)
      ? value.map((item, index) => [String(index), item])
      : Object.entries(value as Record<string, unknown>);
    for (const [key, item] of entries) walk(item, path === '' ? key : `${path}.${key}`, depth + 1);
  };
  walk(args, '', 0);
  return tags;
}
