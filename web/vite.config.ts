/**
 * The web app's build: `vite build web` (npm run build) writes dist/web, which the Vigil server
 * serves at / (src/web/static.ts). `npm run dev:web` serves it with hot reload on :5173 and
 * forwards the API to a Vigil on :3000 (`npm start`).
 */
import { defineConfig } from 'vite';

const API = 'http://127.0.0.1:3000';

export default defineConfig({
  // no React plugin: Vite's own transform compiles TSX (fast refresh is not needed here)
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: '../dist/web',
    emptyOutDir: true,
    sourcemap: true,
    // pages are separate chunks (app/routes.tsx); the first load is the shell and one page
    chunkSizeWarningLimit: 300,
    rolldownOptions: {
      // React Query marks its modules "use client" (for server components); nothing to do here
      onwarn(warning, warn) {
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
      },
    },
  },
  server: { proxy: { '/api': API, '/v1': API, '/sdk.js': API } },
});
