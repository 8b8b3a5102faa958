// The demo's config: the CLI finds it (here, or through the repository's baton.config.ts) and opens
// the demo's journal with its workflow, agents, tools, guard and signing key, so every command works
// on the demo's runs:  npm run baton -- show|history|explain|verify|replay|fork|worker …
import { defineConfig } from 'baton';
import { createDemo, startDataService } from './demo.ts';

const data = await startDataService({ background: true });
const demo = await createDemo(data.origin);

export default defineConfig({
  store: `sqlite:${demo.dbPath}`,
  workflows: [demo.brief],
  guard: demo.guard,
  signing: demo.signing,
});
