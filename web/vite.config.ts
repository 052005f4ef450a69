/**
 * The dashboard build: `vite build --config web/vite.config.ts` writes `web/dist`, which the local
 * runtime serves at `/` and the `Dashboard` construct uploads to S3. No JSX: components call Preact's
 * `h` directly, so the root tsconfig type-checks `web/src` without a JSX setting.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  publicDir: 'public',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    // One small app: a single chunk loads faster than a waterfall of tiny ones.
    chunkSizeWarningLimit: 120,
  },
  server: {
    // `npx vite --config web/vite.config.ts` next to `npm start`: the API and the WebSocket are proxied.
    proxy: {
      '/api': 'http://127.0.0.1:3000',
      '/health': 'http://127.0.0.1:3000',
      '/webhooks': 'http://127.0.0.1:3000',
      '/ws': { target: 'ws://127.0.0.1:3000', ws: true },
    },
  },
});
