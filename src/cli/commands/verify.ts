import type { KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { verifyBundle } from '../../access/audit-bundle.ts';
import { findVerificationKey, resolveSigningOptions } from '../../access/deployment-key.ts';
import { keyIdOf } from '../../access/signing-key.ts';
import { describeProblem, verifyAll, verifyEvidence, type RunVerification } from '../../access/verify-run.ts';
import { WitnessLog, type WitnessRead } from '../../access/witness-log.ts';
import { JournalCorruptError } from '../../errors.ts';
import type { ChainBreak } from '../../journal/hash-chain.ts';
import type { JournalEvent } from '../../journal/events.ts';
import { UsageError, defineCommand, type CommandContext } from '../command.ts';
import { shortHash } from '../output.ts';

const options = {
  all: { type: 'boolean', description: 'Verify every run of the store (or of --tenant)' },
  bundle: {
    type: 'string',
    value: 'file',
    description: 'Verify an audit bundle (baton export) offline, with no database',
  },
  key: {
    type: 'string',
    value: 'file',
    description:
      'The public key to trust (PEM or JWK). Default: the deployment key of the config, or .baton/keys',
  },
  tenant: { type: 'string', value: 'tenant', description: 'Look in this tenant only' },
  witness: {
    type: 'string',
    value: 'file',
    description:
      "The witness log to check the newest checkpoints against. Default: the config's signing.witness",
  },
  'allow-unsigned': {
    type: 'boolean',
    description:
      'Accept runs no checkpoint signs, and verify without a key (chain and run record only): for deployments that do not sign',
  },
  'allow-unfinished': {
    type: 'boolean',
    description: 'With --bundle: accept a bundle of a run that had not ended (it proves a prefix only)',
  },
} as const;

export const verify = defineCommand({
  name: 'verify',
  summary: "Check a run's hash chain and signed checkpoints; report the first broken link or bad signature",
  args: [
    {
      name: 'run',
      required: false,
      description: 'A run id (or an unambiguous start of one); or use --all / --bundle',
    },
  ],
  options,
  details:
    "Every event is re-hashed and checked against its own hash and the next event's prevHash, from\n" +
    "seq 1; the last one must match the run's recorded head, so removed trailing events are caught too.\n" +
    "Checkpoints signed with the deployment's Ed25519 key are verified too, which catches a history\n" +
    "rewritten with fresh hashes; a finished run's last event must be signed (the final checkpoint), and\n" +
    'the run record (principal, tenant, input, status, result, parent) must agree with the journal.\n' +
    'Verification fails closed: what cannot be checked (no key, no final checkpoint) is a failure,\n' +
    'unless --allow-unsigned says the deployment does not sign. Exit code 1 when anything does not verify.\n\n' +
    'Examples:\n' +
    '  baton verify run_01j…               one run\n' +
    '  baton verify --all                  every run\n' +
    '  baton verify --all --witness /mnt/audit/witness.log   every run, against the witness log\n' +
    '  baton verify --bundle run.json --key baton.pub.pem    an exported bundle, offline',
  async run(context) {
    const { args, options: given } = context;
    const modes = [args.run !== undefined, given.all, given.bundle !== undefined].filter(Boolean).length;
    if (modes !== 1)
      throw new UsageError('Give a run, or --all, or --bundle <file> (one of them).', 'verify');
    if (given.bundle !== undefined) return verifyBundleFile(context, given.bundle);
    const key = await verificationKey(context);
    const witness = await witnessLog(context);
    if (witness?.broken) {
      const message = `The witness log ${given.witness ?? 'of the config'} is broken: ${witness.broken.reason}.`;
      if (context.json) context.out.json({ ok: false, witness: { broken: witness.broken } });
      else context.out.line(`${context.out.style('red', '✗')} ${message}`);
      return 1;
    }
    if (given.all) return verifyEveryRun(context, key, witness);
    return verifyOneRun(context, args.run!, key, witness);
  },
});

type Context = CommandContext<typeof options>;

async function witnessLog(context: Context): Promise<WitnessRead | undefined> {
  const loaded = await context.loadConfig();
  const projectDir = loaded.path ? dirname(loaded.path) : context.cwd;
  const file =
    context.options.witness !== undefined
      ? resolve(context.cwd, context.options.witness)
      : loaded.config?.signing?.witness !== undefined
        ? resolveSigningOptions(loaded.config.signing, projectDir).witness
        : undefined;
  return file === undefined ? undefined : new WitnessLog(file).read();
}

async function verificationKey(context: Context): Promise<KeyObject | undefined> {
  const loaded = await context.loadConfig();
  const found = await findVerificationKey({
    ...(context.options.key === undefined ? {} : { keyFile: resolve(context.cwd, context.options.key) }),
    ...(loaded.config?.signing ? { signing: loaded.config.signing } : {}),
    projectDir: loaded.path ? dirname(loaded.path) : context.cwd,
  });
  return found?.key;
}

async function verifyOneRun(
  context: Context,
  given: string,
  key: KeyObject | undefined,
  witness: WitnessRead | undefined,
): Promise<number> {
  const { out, json, options: flags } = context;
  const baton = await context.openBaton({ readOnly: true });
  const scope = flags.tenant === undefined ? undefined : { tenant: flags.tenant };
  const run = await context.findRun(baton, given, scope);
  let events: JournalEvent[];
  try {
    events = await baton.store.readEvents(run.runId, 1, scope);
  } catch (error) {
    if (!JournalCorruptError.isInstance(error)) throw error;
    if (json)
      out.json({ runId: run.runId, ok: false, problem: { kind: 'unreadable', message: error.message } });
    else out.line(`${out.style('red', '✗')} Run ${run.runId}: ${error.message}`);
    return 1;
  }
  const checkpoints = (await baton.store.checkpoints?.listCheckpoints(run.runId, scope)) ?? [];
  const witnessed = witness?.latest.get(run.runId);
  // Without a key the checkpoints cannot be checked: that fails, unless --allow-unsigned.
  const report = verifyEvidence(
    {
      runId: run.runId,
      events,
      lastSeq: run.lastSeq,
      headHash: run.headHash,
      record: run,
      checkpoints,
      ...(witnessed ? { witnessed } : {}),
    },
    key ? [key] : [],
    { allowUnsigned: flags['allow-unsigned'] === true },
  );
  if (json) {
    out.json({
      runId: run.runId,
      ok: report.ok,
      events: events.length,
      head: report.head,
      expectedHead: { seq: run.lastSeq, hash: run.headHash },
      signedSeq: report.signedSeq ?? null,
      checkpoints: checkpoints.length,
      final: report.final,
      keyId: key ? keyIdOf(key) : null,
      witnessed: witnessed ? { seq: witnessed.seq, headHash: witnessed.headHash } : null,
      ...(report.problem && isChainBreak(report.problem) ? { broken: report.problem } : {}),
      problems: report.problems,
    });
    return report.ok ? 0 : 1;
  }
  if (report.ok) {
    out.line(
      `${out.style('green', '✓')} Run ${run.runId}: ${events.length} events, chain intact, head ${shortHash(report.head)}.`,
    );
    out.line(out.style('dim', `  ${signatureLine(report, checkpoints.length, key)}`));
    if (witnessed) out.line(out.style('dim', `  Witnessed through seq ${witnessed.seq}.`));
    return 0;
  }
  const problem = report.problem!;
  if (isChainBreak(problem)) {
    out.line(
      `${out.style('red', '✗')} Run ${run.runId}: the chain breaks at seq ${problem.seq}: ${describeBreak(problem)}.`,
    );
    const intact = problem.kind === 'seq' ? problem.expected - 1 : problem.seq - 1;
    out.line(out.style('dim', `  ${intact} event(s) before it verify.`));
  } else if (problem.kind === 'head') {
    out.line(
      `${out.style('red', '✗')} Run ${run.runId}: the ${events.length} events chain up, but the run's head is seq ` +
        `${run.lastSeq} ${shortHash(run.headHash)}, not seq ${events[events.length - 1]?.seq ?? 0} ${shortHash(report.head)}: ` +
        (events.length < run.lastSeq
          ? 'events are missing from the end.'
          : 'events were added after the end.'),
    );
  } else {
    out.line(`${out.style('red', '✗')} Run ${run.runId}: ${describeProblem(problem)}.`);
  }
  for (const other of report.problems.slice(1, 5))
    out.line(out.style('dim', `  also: ${describeProblem(other)}`));
  return 1;
}

async function verifyEveryRun(
  context: Context,
  key: KeyObject | undefined,
  witness: WitnessRead | undefined,
): Promise<number> {
  const { out, json, options: flags } = context;
  const allowUnsigned = flags['allow-unsigned'] === true;
  if (!key && !allowUnsigned) {
    throw new UsageError(
      'verify --all checks signatures too, and no key was found: pass --key <public key file>, set `signing` in ' +
        'baton.config.ts, or pass --allow-unsigned if this deployment does not sign.',
      'verify',
    );
  }
  const baton = await context.openBaton({ readOnly: true });
  const report = await verifyAll(baton.store, key ? [key] : [], {
    allowUnsigned,
    ...(witness ? { witness } : {}),
    ...(flags.tenant === undefined ? {} : { tenant: flags.tenant }),
    onRun: (run) => {
      if (!json && !run.ok)
        out.line(`${out.style('red', '✗')} ${run.runId}: ${describeProblem(run.problem!)}`);
    },
  });
  const ok = report.failed.length === 0 && report.missing.length === 0;
  if (json) {
    out.json({
      ok,
      runs: report.runs,
      verified: report.ok,
      failed: report.failed,
      unsigned: report.unsigned,
      missing: report.missing,
      keyId: key ? keyIdOf(key) : null,
    });
  } else {
    for (const runId of report.missing) {
      out.line(
        `${out.style('red', '✗')} ${runId}: the witness log holds checkpoints of this run, the store has no such run (deleted)`,
      );
    }
    const mark = ok ? out.style('green', '✓') : out.style('red', '✗');
    out.line(
      `${mark} ${report.ok} of ${report.runs} run(s) verify${key ? ` under key ${keyIdOf(key)}` : ' (unsigned accepted, no key)'}; ` +
        `${report.failed.length} do not${report.missing.length > 0 ? `; ${report.missing.length} witnessed run(s) missing` : ''}.`,
    );
    if (report.unsigned.length > 0) {
      out.line(
        out.style(
          allowUnsigned ? 'dim' : 'red',
          `  ${report.unsigned.length} finished run(s) carry no final checkpoint${allowUnsigned ? ' (accepted: --allow-unsigned)' : ''}: ${report.unsigned.slice(0, 5).join(', ')}${report.unsigned.length > 5 ? ', …' : ''}`,
        ),
      );
    }
  }
  return ok ? 0 : 1;
}

async function verifyBundleFile(context: Context, file: string): Promise<number> {
  const { out, json } = context;
  const path = resolve(context.cwd, file);
  let bundle: unknown;
  try {
    bundle = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new UsageError(`Cannot read the bundle ${path}: ${(error as Error).message}`, 'verify');
  }
  const trusted =
    context.options.key === undefined
      ? undefined
      : await findVerificationKey({
          keyFile: resolve(context.cwd, context.options.key),
          projectDir: context.cwd,
        });
  const report = verifyBundle(bundle, trusted?.key, {
    allowUnfinished: context.options['allow-unfinished'] === true,
  });
  if (json) {
    out.json(report);
    return report.ok ? 0 : 1;
  }
  if (report.ok) {
    out.line(
      `${out.style('green', '✓')} Bundle of run ${report.runId}: ${report.events} events, chain intact, signed through seq ${report.signedSeq} by key ${report.keyId}${report.final ? ` (${report.status}, final)` : ' (unfinished: a prefix only)'}.`,
    );
    if (!report.trusted) {
      out.line(
        out.style(
          'yellow',
          '  Checked against the key inside the bundle only: pass --key <trusted public key> to know who signed it.',
        ),
      );
    }
    return 0;
  }
  out.line(`${out.style('red', '✗')} Bundle of run ${report.runId}: ${describeProblem(report.problem!)}.`);
  for (const problem of report.problems.slice(1, 5))
    out.line(out.style('dim', `  also: ${describeProblem(problem)}`));
  return 1;
}

function signatureLine(report: RunVerification, checkpoints: number, key: KeyObject | undefined): string {
  if (!key)
    return `${checkpoints} checkpoint(s) NOT checked: no key (accepted by --allow-unsigned). Pass --key, or set signing in baton.config.ts.`;
  if (report.signedSeq === undefined) return `Not signed yet (key ${keyIdOf(key)}).`;
  return `Signed through seq ${report.signedSeq} by key ${keyIdOf(key)}${report.signedSeq < report.events ? `; seq ${report.signedSeq + 1}–${report.events} not signed yet` : ''}.${report.final ? ` Final: the run ${report.status} at seq ${report.signedSeq}.` : ''}`;
}

function isChainBreak(problem: { kind: string }): problem is ChainBreak {
  return (
    problem.kind === 'seq' ||
    problem.kind === 'prevHash' ||
    problem.kind === 'hash' ||
    problem.kind === 'runId'
  );
}

function describeBreak(broken: ChainBreak): string {
  switch (broken.kind) {
    case 'hash':
      return `its content does not hash to its recorded hash (content hashes to ${shortHash(broken.expected)}, recorded ${shortHash(broken.found)}): the event was altered`;
    case 'prevHash':
      return `its prevHash ${shortHash(broken.found)} is not the previous event's hash ${shortHash(broken.expected)}: an event before it was altered, removed or inserted`;
    case 'seq':
      return `expected seq ${broken.expected}, found ${broken.found}: an event is missing or out of order`;
    case 'runId':
      return `it belongs to run ${broken.found}, not ${broken.expected}`;
  }
}
