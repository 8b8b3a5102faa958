import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { WorkflowDefinition } from '../engine/workflow.ts';
import { BatonError } from '../errors.ts';
import { parseHistory } from '../explain/history-document.ts';
import type { ReplayOptions, ReplayReport } from '../explain/replay.ts';
import { replay } from '../replay.ts';

export interface GoldenHistoryResult {
  file: string;
  runId?: string;
  workflow?: string;
  /** The replay's report, when the file could be replayed. */
  report?: ReplayReport;
  /** Why the file could not be replayed (unreadable, a newer format, no such workflow given). */
  problem?: string;
}

export interface GoldenHistoriesReport {
  /** True when the folder held histories and every one replayed without a divergence. */
  ok: boolean;
  results: GoldenHistoryResult[];
  /** One line per file that failed, with what diverged where: for a test's failure message. */
  message: string;
}

/**
 * Replays every history in `folder` (`*.json` and `*.ndjson`, as `baton export <run> --format json`
 * writes them) against today's workflow code, with no side effects, and reports each divergence.
 * Keep histories of runs that matter as golden files next to the tests; a change that breaks
 * replay of runs in flight fails the test before it is deployed.
 *
 * @example
 * const golden = await replayHistories('test/golden', [support, billing]);
 * expect(golden.ok, golden.message).toBe(true);
 */
export async function replayHistories(
  folder: string,
  workflows: readonly WorkflowDefinition<any, any, any>[],
  options: ReplayOptions = {},
): Promise<GoldenHistoriesReport> {
  const byName = new Map(workflows.map((definition) => [definition.name, definition]));
  const files = (await readdir(folder)).filter((name) => /\.(nd)?json$/.test(name)).sort();
  const results: GoldenHistoryResult[] = [];
  for (const file of files) {
    const path = join(folder, file);
    try {
      const events = parseHistory(await readFile(path, 'utf8'), path);
      const workflow = (events[0]!.payload as { workflow: string }).workflow;
      const definition = byName.get(workflow);
      if (!definition) {
        results.push({
          file,
          runId: events[0]!.runId,
          workflow,
          problem: `no workflow named '${workflow}' was given (given: ${[...byName.keys()].join(', ') || 'none'})`,
        });
        continue;
      }
      results.push({
        file,
        runId: events[0]!.runId,
        workflow,
        report: await replay(events, definition, options),
      });
    } catch (error) {
      if (!BatonError.isInstance(error)) throw error;
      results.push({ file, problem: error.message });
    }
  }
  const failures = results.filter((result) => result.problem !== undefined || !result.report!.ok);
  const message = failures
    .map((result) => `${result.file}: ${result.problem ?? result.report!.divergence!.message}`)
    .join('\n');
  return {
    // An empty folder is a mistake (a moved folder, a wrong path), not a pass.
    ok: files.length > 0 && failures.length === 0,
    results,
    message:
      files.length === 0
        ? `No histories (*.json, *.ndjson) in ${folder}.`
        : message || `${results.length} histories replayed without divergence.`,
  };
}
