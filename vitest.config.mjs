import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/cuda/**'],
    testTimeout: 120000,
    hookTimeout: 60000,
    // Each file gets its own process: the addon's thread pool and generator state stay per file.
    pool: 'forks',
    // --expose-gc lets the memory tests check that finalizers free dropped tensors.
    execArgv: ['--expose-gc'],
  },
});
