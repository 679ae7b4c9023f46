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
}

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
  it('has no suite-level errors', () => {
    expect(result.suiteErrors).toEqual([]);
  });
});
