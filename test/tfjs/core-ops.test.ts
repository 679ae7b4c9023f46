// tfjs-core's own op tests against the `dendrite` backend: runs test/tfjs/run-core-tests.mjs in
// a child process (its jasmine globals and the second tfjs-core copy in the test bundle stay out
// of vitest's process) and asserts that every listed file passes in full.
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const runner = path.join(__dirname, 'run-core-tests.mjs');

interface Result {
  counts: Record<string, { passed: number; failed: number; skipped: number }>;
  failures: { file: string; name: string; message: string }[];
  suiteErrors: { name: string; message: string }[];
  fileFallbacks: Record<string, Record<string, number>>;
}

/**
 * Files whose kernels are all native: they must not touch the cpu fallback at all (the
 * conv-family files ran on it before the native conv kernels; this proves they no longer do).
 */
const NATIVE_ONLY = [
  'ops/conv2d_test', 'ops/conv2d_transpose_test', 'ops/depthwise_conv2d_test', 'ops/max_pool_test', 'ops/avg_pool_test',
  'ops/batchnorm_test', 'ops/conv1d_test', 'ops/conv2d_separable_test', 'ops/mirror_pad_test',
  'ops/image/resize_bilinear_test', 'ops/image/resize_nearest_neighbor_test',
];

function run(): Result {
  let stdout: string;
  try {
    stdout = execFileSync(process.execPath, [runner, '--json'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 110_000 });
  } catch (e) {
    // A failing spec gives exit code 1 with the JSON still on stdout.
    stdout = (e as { stdout?: string }).stdout ?? '';
    if (!stdout.includes('{"counts"')) throw e;
  }
  const last = stdout.trim().split('\n').pop()!;
  return JSON.parse(last) as Result;
}

describe('tfjs-core op tests on the dendrite backend', () => {
  const result = run();
  for (const [file, c] of Object.entries(result.counts)) {
    it(`${file} passes in full`, () => {
      const failed = result.failures.filter((f) => f.file === file).map((f) => `${f.name}: ${f.message}`);
      expect(failed).toEqual([]);
      expect(c.failed).toBe(0);
      expect(c.passed).toBeGreaterThan(0);
    });
  }
  for (const file of NATIVE_ONLY) {
    it(`${file} runs on native kernels only (no cpu fallback)`, () => {
      expect(result.counts[file]?.passed ?? 0).toBeGreaterThan(0);
      expect(result.fileFallbacks[file]).toEqual({});
    });
  }
  it('has no suite-level errors', () => {
    expect(result.suiteErrors).toEqual([]);
  });
});
