import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { cruise, type IConfiguration } from 'dependency-cruiser';
import { describe, expect, it } from 'vitest';

// docs/architecture.md, checked: every layer of src/ imports only the layers below it, and no module
// reaches itself again through its imports, type imports included (shared types live in types
// modules: docs/decisions/0019, 0020). The rules are .dependency-cruiser.cjs, which `npm run
// check:deps` also runs over the tests, benchmarks, scripts, examples and the UI.
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const config = createRequire(import.meta.url)(`${ROOT}.dependency-cruiser.cjs`) as IConfiguration;

describe('the layers of src/', () => {
  it('import only downward, with no import cycle', async () => {
    const previous = process.cwd();
    process.chdir(ROOT);
    try {
      const result = await cruise(['src'], { ruleSet: config, ...config.options, validate: true });
      const output = result.output;
      if (typeof output === 'string') throw new Error(output);
      const violations = output.summary.violations.map(
        (violation) =>
          `${violation.rule.name}: ${violation.from} → ${violation.to}${violation.cycle ? ` (${violation.cycle.map((step) => step.name).join(' → ')})` : ''}`,
      );
      expect(violations).toEqual([]);
      expect(output.summary.totalCruised).toBeGreaterThan(300);
    } finally {
      process.chdir(previous);
    }
  }, 120_000);
});
