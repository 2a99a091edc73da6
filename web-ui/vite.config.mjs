// Builds the admin UI into dist/web-ui, which the gateway serves at /ai-bridge/ui/.
// base './': every URL is relative, resolved against the <base> the gateway puts
// into index.html, so the UI works under any prefix and route depth.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  logLevel: 'info',
  build: {
    outDir: fileURLToPath(new URL('../dist/web-ui', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // One small bundle: no preload polyfill, no source maps shipped to browsers.
    modulePreload: { polyfill: false },
    sourcemap: false,
    reportCompressedSize: true,
    assetsInlineLimit: 0,
  },
});
