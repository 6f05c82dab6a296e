import { defineConfig } from 'vite';

// The build goes straight into internal/ui/dist, which the Go binary embeds. OUT_DIR lets
// the dist check build elsewhere and compare.
export default defineConfig({
  base: '/ui/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: process.env.OUT_DIR || '../internal/ui/dist',
    emptyOutDir: true,
    sourcemap: false,
    modulePreload: { polyfill: false },
    reportCompressedSize: true,
  },
  test: { environment: 'node', include: ['test/**/*.test.ts'] },
} as any);
