// Records the public API of every entry point ('baton' and each subpath) with API Extractor, in
// api/<entry>.api.md. `npm run api:check` fails when the declarations no longer match the committed
// reports (so a change to the public surface shows in review); `npm run api:update` rewrites them.
// Both read the declarations `tsc -p tsconfig.build.json --emitDeclarationOnly` writes to dist/.
import { resolve } from 'node:path';
import { Extractor, ExtractorConfig } from '@microsoft/api-extractor';

const ROOT = resolve(import.meta.dirname, '..');

/** Each entry point: its report's name and the declarations it starts from (as in package.json "exports"). */
export const API_ENTRY_POINTS: readonly [report: string, declarations: string][] = [
  ['baton', 'dist/index.d.ts'],
  ['baton-agents', 'dist/agents/index.d.ts'],
  ['baton-guard', 'dist/guard/index.d.ts'],
  ['baton-access', 'dist/access/index.d.ts'],
  ['baton-routing', 'dist/routing/index.d.ts'],
  ['baton-explain', 'dist/explain/index.d.ts'],
  ['baton-store', 'dist/store/index.d.ts'],
  ['baton-testing', 'dist/testing/index.d.ts'],
  ['baton-server', 'dist/server/index.d.ts'],
  ['baton-postgres', 'dist/store/postgres/index.d.ts'],
];

function check(update: boolean): boolean {
  const configPath = resolve(ROOT, 'api-extractor.json');
  const base = ExtractorConfig.loadFile(configPath);
  let ok = true;
  for (const [report, declarations] of API_ENTRY_POINTS) {
    const config = ExtractorConfig.prepare({
      configObject: {
        ...base,
        mainEntryPointFilePath: resolve(ROOT, declarations),
        apiReport: { ...base.apiReport!, enabled: true, reportFileName: `${report}.api.md` },
      },
      configObjectFullPath: configPath,
      packageJsonFullPath: resolve(ROOT, 'package.json'),
    });
    const result = Extractor.invoke(config, { localBuild: update, messageCallback: quiet });
    if (!result.succeeded || (!update && result.apiReportChanged)) {
      ok = false;
      console.error(
        `api/${report}.api.md: the public API of ${declarations} changed; run \`npm run api:update\` and commit the report.`,
      );
    } else if (update && result.apiReportChanged) {
      console.log(`Updated api/${report}.api.md`);
    }
  }
  return ok;
}

/** API Extractor's progress lines stay quiet; its warnings and errors are printed. */
function quiet(message: { logLevel: string; handled: boolean }): void {
  if (message.logLevel === 'info' || message.logLevel === 'verbose') message.handled = true;
}

if (import.meta.main) {
  const update = process.argv.includes('--update');
  if (!check(update)) process.exitCode = 1;
  else if (!update) console.log(`The public API matches api/ (${API_ENTRY_POINTS.length} entry points).`);
}
