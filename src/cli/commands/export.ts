import { writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { exportBundle } from '../../access/audit-bundle.ts';
import { findVerificationKey } from '../../access/deployment-key.ts';
import { exportHistory } from '../../explain/history-document.ts';
import { UsageError, defineCommand } from '../command.ts';

export const exportRun = defineCommand({
  name: 'export',
  summary: "Write a run's audit bundle (events, checkpoints, key) or, with --format, its history",
  args: [{ name: 'run', required: true, description: 'A run id (or an unambiguous start of one)' }],
  options: {
    out: {
      type: 'string',
      short: 'o',
      value: 'file',
      description: 'Write the bundle to this file (default: stdout)',
    },
    key: {
      type: 'string',
      value: 'file',
      description: 'The deployment key (PEM or JWK). Default: the config’s signing key, or .baton/keys',
    },
    tenant: { type: 'string', value: 'tenant', description: 'Look in this tenant only' },
    format: {
      type: 'string',
      value: 'json|ndjson',
      description:
        'Write the run’s history instead (for baton replay --file and golden histories); no key needed',
    },
  },
  details:
    'Anyone can check the bundle without a database: baton verify --bundle <file> --key <public key>.\n' +
    'A run not signed yet (no worker with `signing` finished it) exports without checkpoints, and its\n' +
    'bundle does not verify.\n' +
    'With --format json (one document) or ndjson (a header line, then one event per line), the run’s\n' +
    'history is written instead: replayHistories (baton/testing) and baton replay --file read it.',
  async run({ args, options, out, cwd, loadConfig, openBaton, findRun }) {
    if (options.format !== undefined) {
      if (options.format !== 'json' && options.format !== 'ndjson') {
        throw new UsageError(`--format is json or ndjson, got '${options.format}'.`, 'export');
      }
      const baton = await openBaton({ readOnly: true });
      const scope = options.tenant === undefined ? undefined : { tenant: options.tenant };
      const run = await findRun(baton, args.run!, scope);
      const text = await exportHistory(baton.store, run.runId, { format: options.format, ...(scope ?? {}) });
      if (options.out === undefined) {
        out.line(text.trimEnd());
        return;
      }
      const path = resolve(cwd, options.out);
      await writeFile(path, text);
      out.error(
        `Wrote the history of run ${run.runId} (${run.lastSeq} events, ${options.format}) to ${path}.`,
      );
      return;
    }
    const loaded = await loadConfig();
    const found = await findVerificationKey({
      ...(options.key === undefined ? {} : { keyFile: resolve(cwd, options.key) }),
      ...(loaded.config?.signing ? { signing: loaded.config.signing } : {}),
      projectDir: loaded.path ? dirname(loaded.path) : cwd,
    });
    if (!found) {
      throw new UsageError(
        'No deployment key found: pass --key <file>, or set `signing` in baton.config.ts.',
        'export',
      );
    }
    const baton = await openBaton({ readOnly: true });
    const scope = options.tenant === undefined ? undefined : { tenant: options.tenant };
    const run = await findRun(baton, args.run!, scope);
    const bundle = await exportBundle(baton.store, run.runId, { publicKey: found.key, ...(scope ?? {}) });
    const text = `${JSON.stringify(bundle, null, 2)}\n`;
    if (options.out === undefined) {
      out.line(text.trimEnd());
      return;
    }
    const path = resolve(cwd, options.out);
    await writeFile(path, text);
    out.error(
      `Wrote the bundle of run ${run.runId} (${bundle.events.length} events, ${bundle.checkpoints.length} checkpoint(s), key ${bundle.publicKey.kid}) to ${path}.`,
    );
  },
});
