/**
 * The address of a run's page in the web UI.
 *
 * @example runUrl('http://127.0.0.1:4000', run.runId) // 'http://127.0.0.1:4000/runs/run_01…'
 */
export function runUrl(baseUrl: string, runId: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/runs/${encodeURIComponent(runId)}`;
}
