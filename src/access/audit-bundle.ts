import { RunNotFoundError } from '../errors.ts';
import type { JournalEvent } from '../journal/events.ts';
import type { CheckpointRecord } from '../store/checkpoints.ts';
import type { Store } from '../store/store.ts';
import { InvalidBundleError } from './access-errors.ts';
import { jwkOf, keyIdOf, toPublicKey, type PublicKeyInput, type PublicKeyJwk } from './signing-key.ts';
import { verifyEvidence, type RunVerification } from './verify-run.ts';

export const AUDIT_BUNDLE_FORMAT = 'baton.audit-bundle/1';

/**
 * Everything needed to check one run's journal offline: its events, the signed checkpoints of its
 * chain (the last one signs the run's status and head: the end of a finished run), and the public
 * key that signed them. Plain JSON; `baton export <run>` writes one.
 */
export interface AuditBundle {
  format: typeof AUDIT_BUNDLE_FORMAT;
  exportedAt: string;
  run: {
    runId: string;
    workflow: string;
    tenant: string;
    principal: string;
    status: string;
    createdAt: string;
    lastSeq: number;
    headHash: string;
  };
  events: JournalEvent[];
  checkpoints: CheckpointRecord[];
  publicKey: PublicKeyJwk;
}

/**
 * Exports a run's audit bundle. With a tenant, a run of another tenant is not found.
 *
 * @example writeFileSync('run.bundle.json', JSON.stringify(await exportBundle(store, runId, { publicKey: key })));
 */
export async function exportBundle(
  store: Store,
  runId: string,
  options: { publicKey: PublicKeyInput; tenant?: string; now?: number },
): Promise<AuditBundle> {
  const scope = options.tenant === undefined ? undefined : { tenant: options.tenant };
  const run = await store.getRun(runId, scope);
  if (!run) throw new RunNotFoundError({ runId });
  const [events, checkpoints] = await Promise.all([
    store.readEvents(runId, 1, scope),
    store.checkpoints?.listCheckpoints(runId, scope) ?? Promise.resolve([]),
  ]);
  return {
    format: AUDIT_BUNDLE_FORMAT,
    exportedAt: new Date(options.now ?? Date.now()).toISOString(),
    run: {
      runId: run.runId,
      workflow: run.workflow,
      tenant: run.tenant,
      principal: run.principal,
      status: run.status,
      createdAt: new Date(run.createdAt).toISOString(),
      lastSeq: run.lastSeq,
      headHash: run.headHash,
    },
    events,
    checkpoints,
    publicKey: jwkOf(toPublicKey(options.publicKey)),
  };
}

export interface BundleVerification extends RunVerification {
  /** The key id the bundle's checkpoints were verified with. */
  keyId: string;
  /** True when verified against a key the caller trusts, false when only against the bundle's own key. */
  trusted: boolean;
}

export interface BundleRules {
  /**
   * Accept a bundle of a run that had not ended when it was exported. Such a bundle proves the
   * journal up to its newest checkpoint only: it cannot show that no events followed, and a bundle
   * cut back to an earlier signed prefix looks the same. Default false.
   */
  allowUnfinished?: boolean;
}

/**
 * Checks an audit bundle with no database: the hash chain, the run's recorded head and status
 * against its journal, and every checkpoint's signature. With `trustedPublicKey`, the checkpoints
 * must be signed by that key (a bundle signed with another key is reported as a `key` problem);
 * without it, they are checked against the bundle's own key, which shows the bundle is intact but
 * not who made it (`trusted` false).
 *
 * Fails closed: a bundle must carry a checkpoint that signs the end of the run at its last event,
 * so a bundle cut back to a signed prefix, or grown past its end, is refused. A bundle with no
 * checkpoint is `unsigned` (anyone can build a consistent chain); a bundle of a run that had not
 * ended is `unfinished` unless `allowUnfinished`.
 *
 * @example
 * const report = verifyBundle(JSON.parse(readFileSync('run.bundle.json', 'utf8')), readFileSync('baton.pub.pem', 'utf8'));
 */
export function verifyBundle(
  bundle: unknown,
  trustedPublicKey?: PublicKeyInput,
  rules: BundleRules = {},
): BundleVerification {
  const checked = checkBundle(bundle);
  const own = toPublicKey(checked.publicKey);
  const trusted = trustedPublicKey === undefined ? undefined : toPublicKey(trustedPublicKey);
  const key = trusted ?? own;
  const keyId = keyIdOf(key);
  const { run } = checked;
  const report = verifyEvidence(
    {
      runId: run.runId,
      events: checked.events,
      lastSeq: run.lastSeq,
      headHash: run.headHash,
      record: { workflow: run.workflow, tenant: run.tenant, principal: run.principal, status: run.status },
      checkpoints: checked.checkpoints,
    },
    [key],
  );
  const problems = [...report.problems];
  if (trusted && keyIdOf(own) !== keyId) {
    problems.unshift({ kind: 'key', seq: undefined, expected: keyId, found: keyIdOf(own) });
  }
  if (checked.checkpoints.length === 0 && !problems.some((problem) => problem.kind === 'unsigned')) {
    problems.push({
      kind: 'unsigned',
      seq: undefined,
      reason: `the bundle of run ${run.runId} carries no signed checkpoint`,
    });
  }
  if (report.status === 'unfinished' && !rules.allowUnfinished) {
    problems.push({
      kind: 'unfinished',
      seq: checked.events.length,
      reason:
        `the bundle's run ${run.runId} had not ended at its last event (seq ${checked.events.length}): it proves ` +
        `the journal up to seq ${report.signedSeq ?? 0} only, and a bundle cut back to a signed prefix looks the same ` +
        '(accept it explicitly with --allow-unfinished)',
    });
  }
  const result: BundleVerification = {
    ...report,
    ok: problems.length === 0,
    problems,
    keyId,
    trusted: trusted !== undefined,
  };
  delete result.problem;
  if (problems[0]) result.problem = problems[0];
  return result;
}

function checkBundle(value: unknown): AuditBundle {
  if (typeof value !== 'object' || value === null)
    throw new InvalidBundleError('An audit bundle is a JSON object.');
  const bundle = value as Partial<AuditBundle>;
  if (bundle.format !== AUDIT_BUNDLE_FORMAT) {
    throw new InvalidBundleError(
      `This is not a Baton audit bundle of format ${AUDIT_BUNDLE_FORMAT} (its format reads '${String(bundle.format)}').`,
    );
  }
  if (typeof bundle.run !== 'object' || bundle.run === null || typeof bundle.run.runId !== 'string') {
    throw new InvalidBundleError('The bundle has no run.');
  }
  if (!Array.isArray(bundle.events)) throw new InvalidBundleError('The bundle has no events.');
  if (!Array.isArray(bundle.checkpoints)) throw new InvalidBundleError('The bundle has no checkpoints list.');
  if (typeof bundle.publicKey !== 'object' || bundle.publicKey === null)
    throw new InvalidBundleError('The bundle has no public key.');
  return bundle as AuditBundle;
}
