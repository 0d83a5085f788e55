/**
 * Test support: runs churnctl, or another script of the repository, as a child process
 * the way a user would: `node --conditions=source` on its TypeScript source, from the
 * repository's root, with PATH and HOME as the only environment (and what a test adds).
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The repository's root directory. */
export const repoRoot = resolve(import.meta.dirname, '../../../..');

/** Runs `node --conditions=source ...args` in the repository's root; rejects when it exits non-zero. */
export function node(args: readonly string[], env: Record<string, string> = {}) {
  return run(process.execPath, ['--conditions=source', ...args], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
}

/** Runs `churnctl ...args`: its stdout and stderr; rejects when it exits non-zero. */
export function churnctl(...args: string[]) {
  return node(['packages/cli/src/churnctl.ts', ...args]);
}

/** Runs `churnctl ...args` that should fail: its exit code and stderr (code 0 and no stderr when it succeeds). */
export function failure(...args: string[]): Promise<{ code: number; stderr: string }> {
  return churnctl(...args).then(
    () => ({ code: 0, stderr: '' }),
    (e: unknown) => e as { code: number; stderr: string },
  );
}
