import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

/** The web UI: `npm run build:ui` writes ui/dist, which `baton server` serves. */
export default defineConfig({
  root,
  base: '/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 2000,
    // The timings note is noise for a build this small.
    rolldownOptions: { checks: { bundlerTimings: false } },
  },
  server: {
    // `npx vite ui` for UI work: the API comes from a `baton server` on 4000.
    proxy: { '/api': 'http://127.0.0.1:4000' },
  },
});
