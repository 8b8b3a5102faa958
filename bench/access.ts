import { join } from 'node:path';
import { authorizeDurably } from '../src/access/authorize-durably.ts';
import { signCheckpoint, verifyCheckpoint } from '../src/access/checkpoint.ts';
import { createGrant } from '../src/access/grant.ts';
import { actingFor, chainOf, identityChain } from '../src/access/identity-chain.ts';
import { PolicyEngine } from '../src/access/policy-engine.ts';
import { SigningKey } from '../src/access/signing-key.ts';
import { Baton } from '../src/baton.ts';
import { defineWorkflow } from '../src/engine/workflow.ts';
import type { JournalEvent } from '../src/journal/events.ts';
import { GENESIS_HASH, sealEvent, verifyChain } from '../src/journal/hash-chain.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { interleave, measurement, microsSince, type Figure } from './harness.ts';

const STEPS = 200;
const DECISIONS = 2000;
const EVENTS = 2000;

/** A policy set of the size a small deployment has: a dozen rules, one matching on arguments. */
const POLICIES = `
@id("agents-use-read-tools") permit (principal is Agent, action == Action::"InvokeTool", resource)
  when { principal in context.tenant && resource.effect == "read" };
@id("agents-use-write-tools") permit (principal is Agent, action == Action::"InvokeTool", resource)
  when { principal in context.tenant && resource.effect == "write" && context.root like "user:*" };
@id("mail-stays-inside") forbid (principal, action == Action::"InvokeTool", resource == Tool::"email.send")
  unless { resource.hasTag("to") && resource.getTag("to") like "*@acme.com" };
@id("irreversible-is-shallow") forbid (principal is Agent, action == Action::"InvokeTool", resource)
  when { resource.effect == "irreversible" && context.depth > 2 };
@id("hand-offs") permit (principal is Agent, action == Action::"HandOff", resource) when { resource in context.tenant };
@id("children") permit (principal, action == Action::"StartChild", resource) when { resource in context.tenant };
@id("owners-read") permit (principal is User, action == Action::"ReadRun", resource) when { resource.principal == context.actor };
@id("owners-signal") permit (principal is User, action == Action::"SignalRun", resource) when { resource.principal == context.actor };
@id("owners-cancel") permit (principal is User, action == Action::"CancelRun", resource) when { resource.principal == context.actor };
@id("approvers") permit (principal is User, action == Action::"Approve", resource) when { context.approval == "refund" };
@id("no-service-approvals") forbid (principal is Service, action == Action::"Approve", resource);
@id("cron-reads") permit (principal == Service::"cron", action == Action::"ReadRun", resource);
`;

const policies = PolicyEngine.fromSources([{ name: 'bench.cedar', text: POLICIES }]);
const grant = createGrant({ tenant: 'acme', holder: 'user:alice', actions: ['tool:*', 'handoff:*'] });
const request = {
  chain: identityChain('acme', 'agent:writer', ['agent:planner', 'user:alice']),
  action: 'InvokeTool' as const,
  resource: {
    kind: 'tool' as const,
    name: 'email.send',
    effect: 'write' as const,
    args: { to: 'bob@acme.com', subject: 'Invoice', body: 'Attached.' },
  },
  grant,
};

const steps = defineWorkflow('bench.access.steps', async (ctx, input: { steps: number }) => {
  let sum = 0;
  for (let index = 0; index < input.steps; index++) sum += await ctx.step('add', () => index);
  return sum;
});

/** Each step authorized first (decision buffered, written with the step's commit). */
const authorizedSteps = defineWorkflow('bench.access.authorized', async (ctx, input: { steps: number }) => {
  const chain = actingFor(chainOf(ctx), 'agent:writer');
  let sum = 0;
  for (let index = 0; index < input.steps; index++) {
    const decision = await authorizeDurably(ctx, policies, { ...request, chain });
    if (decision.decision !== 'allow') throw new Error(`the bench decision was refused: ${decision.reason}`);
    sum += await ctx.step('add', () => index);
  }
  return sum;
});

/** A representative journal: step results of a few hundred bytes, under an agent's chain. */
function sampleEvents(count: number): JournalEvent[] {
  const events: JournalEvent[] = [];
  let prevHash = GENESIS_HASH;
  for (let seq = 1; seq <= count; seq++) {
    const event = sealEvent({
      runId: 'run_bench',
      seq,
      type: 'step.completed',
      at: new Date(Date.UTC(2026, 0, 1) + seq).toISOString(),
      actor: 'agent:writer',
      onBehalfOf: ['agent:planner', 'user:alice'],
      payload: {
        op: seq,
        name: 'lookup',
        attempt: 1,
        result: { id: `doc_${seq}`, title: 'A document title', score: 0.87, tags: ['a', 'b', 'c'] },
      },
      prevHash,
    });
    events.push(event);
    prevHash = event.hash;
  }
  return events;
}

/**
 * The cost of access control against the durable step it guards: one Cedar decision (with the
 * grant check), one decision journaled by authorizeDurably, the hash chain per event (sealing and
 * verifying), and a checkpoint signature, each as a fraction of one durable step (SQLite, WAL,
 * synchronous=FULL, one fsync per step).
 */
export const accessFigure: Figure = {
  id: 'access',
  title:
    'Access control and tamper evidence: cost per decision and per event vs one durable step (SQLite, synchronous=FULL)',
  async run(bench) {
    const dir = bench.tempDir('access');
    const store = SqliteStore.open({ path: join(dir, 'baton.db') });
    const baton = await Baton.open({
      store,
      workflows: [steps, authorizedSteps],
      worker: { concurrency: 1 },
    });
    const events = sampleEvents(EVENTS);
    const key = SigningKey.generate();
    const checkpoint = signCheckpoint(key, 'run_bench', EVENTS, events[EVENTS - 1]!.hash);
    // The decision the figure times must be one Cedar evaluates (not one refused before it runs).
    const probe = policies.authorize(request);
    if (probe.decision !== 'allow' || probe.policies.length === 0)
      throw new Error(`bench request not allowed by a policy: ${JSON.stringify(probe)}`);
    try {
      const perStep = async (definition: typeof steps): Promise<number> => {
        const start = performance.now();
        const run = await baton.start(definition, { steps: STEPS }, { as: 'user:alice', tenant: 'acme' });
        await run.result();
        return microsSince(start) / STEPS;
      };
      const samples = await interleave(
        {
          step: () => perStep(steps),
          authorizedStep: () => perStep(authorizedSteps),
          decision: () => {
            const start = performance.now();
            for (let index = 0; index < DECISIONS; index++) policies.authorize(request);
            return microsSince(start) / DECISIONS;
          },
          seal: () => {
            const start = performance.now();
            for (const event of events) sealEvent(event);
            return microsSince(start) / EVENTS;
          },
          verify: () => {
            const start = performance.now();
            verifyChain(events);
            return microsSince(start) / EVENTS;
          },
          sign: () => {
            const start = performance.now();
            for (let index = 0; index < 200; index++)
              signCheckpoint(key, 'run_bench', EVENTS, events[EVENTS - 1]!.hash);
            return microsSince(start) / 200;
          },
          verifySignature: () => {
            const start = performance.now();
            for (let index = 0; index < 200; index++) verifyCheckpoint(checkpoint, key.publicKey);
            return microsSince(start) / 200;
          },
        },
        { warmup: bench.warmup, repeats: bench.repeats },
      );
      const step = measurement('durable step (ctx.step)', 'µs/step', samples.step);
      const authorizedStep = measurement('authorizeDurably + ctx.step', 'µs/step', samples.authorizedStep);
      const decision = measurement(
        'authorization decision (grant + Cedar, 12 policies)',
        'µs/decision',
        samples.decision,
      );
      const seal = measurement(
        'hash chain: seal one event (canonical JSON + sha256)',
        'µs/event',
        samples.seal,
      );
      const verify = measurement('hash chain: verify one event', 'µs/event', samples.verify);
      const sign = measurement('checkpoint: Ed25519 sign', 'µs/checkpoint', samples.sign);
      const verifySignature = measurement(
        'checkpoint: Ed25519 verify',
        'µs/checkpoint',
        samples.verifySignature,
      );
      const ratio = (value: number): string =>
        `${((value / step.value) * 100).toFixed(1)}% of a durable step`;
      return {
        measurements: [step, authorizedStep, decision, seal, verify, sign, verifySignature],
        ratio: { label: 'authorization decision / durable step', value: decision.value / step.value },
        notes: [
          `decision: ${ratio(decision.value)}; journaled decision (authorizeDurably + step − step): ${ratio(authorizedStep.value - step.value)}`,
          `hash chain per event: seal ${ratio(seal.value)}, verify ${ratio(verify.value)}; checkpoint signature ${ratio(sign.value)} (once per run, off the run's path)`,
          `Cedar decisions do not validate each request against the schema (policies are validated at load); ` +
            `PolicyEngine.load({ validateRequests: true }) roughly doubles the decision cost.`,
        ],
      };
    } finally {
      await baton.close();
      await store.close();
    }
  },
};
