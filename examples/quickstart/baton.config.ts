import { defineConfig } from 'baton';
import { welcome } from './workflows.ts';

// Read by the `baton` CLI (and workers) run in this folder, and by app.ts.
export default defineConfig({
  store: 'sqlite:./baton.db',
  workflows: [welcome],
});
