import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// Builds the chat app into dist/, which server.ts serves beside the Baton API.
export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true },
});
