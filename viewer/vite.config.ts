// The viewer is two pages built by one Vite config: the trace/session viewer (index.html)
// and the live packet-voice page (live/index.html). Served by `solacelive view`.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  root: here('.'),
  base: './',
  plugins: [react()],
  // Browser code imports src/protocol etc. from the package root (one level up).
  server: { fs: { allow: [here('..')] } },
  build: {
    outDir: here('dist'),
    emptyOutDir: true,
    sourcemap: true,
    rollupOptions: {
      input: { main: here('index.html'), live: here('live/index.html') },
      // Rolldown's plugin-timing notice is advice for plugin authors; on a loaded machine it
      // prints on every `solacelive view` build.
      checks: { pluginTimings: false },
    },
  },
});
