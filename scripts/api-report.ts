// Records the public API of every entry point ('baton' and each subpath) with API Extractor, in
// api/<entry>.api.md. `npm run api:check` fails when the declarations no longer match the committed
// reports (so a change to the public surface shows in review); `npm run api:update` rewrites them.
// Both read the declarations `tsc -p tsconfig.build.json --emitDeclarationOnly` writes to dist/.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Extractor, ExtractorConfig } from '@microsoft/api-extractor';

const ROOT = resolve(import.meta.dirname, '..');

/**
 * Each entry point of package.json "exports": its report's name ('baton', 'baton-agents', …) and the
 * declarations it starts from (its `types`).
 */
export const API_ENTRY_POINTS: readonly [report: string, declarations: string][] = Object.entries(
  (
    JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as {
      exports: Record<string, string | { types?: string }>;
    }
  ).exports,
).flatMap(([subpath, target]) =>
  typeof target === 'string' || target.types === undefined
    ? []
    : [[`baton${subpath.slice(1).replace('/', '-')}`, target.types.replace(/^\.\//, '')] as [string, string]],
);

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
