import { defineConfig } from 'vitest/config';

// test/cuda needs a GPU and is left out of the default run; naming it on the command line
// (`npx vitest run test/cuda`, `npm run test:cuda`) runs it. Without a GPU its tests skip and say why.
const cudaAsked = process.argv.some((a) => a.replace(/\\/g, '/').includes('test/cuda'));

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: cudaAsked ? [] : ['test/cuda/**'],
    testTimeout: 120000,
    hookTimeout: 60000,
    // Each file gets its own process: the addon's thread pool and generator state stay per file.
    pool: 'forks',
    // --expose-gc lets the memory tests check that finalizers free dropped tensors.
    execArgv: ['--expose-gc'],
  },
});
