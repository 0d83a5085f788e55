/**
 * The benchmark and the fault suite answer `--help` with their own usage and exit 0,
 * and refuse an option they do not know, or a value they cannot take, in one line
 * naming it, with exit code 2, before they touch a broker.
 */
import { describe, expect, it } from 'vitest';
import { node } from './testing/command.ts';

const SCRIPTS = [
  { name: 'bench', path: 'bench/run.ts', usage: 'npm run bench', badValue: ['--only', 'nope'], names: '--only' },
  {
    name: 'faults',
    path: 'test/faults/run.ts',
    usage: 'npm run test:faults',
    badValue: ['--shape', 'nope'],
    names: '--shape',
  },
] as const;

/** Runs a script: exit code, stdout and stderr. */
async function run(path: string, ...args: string[]) {
  return node([path, ...args]).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );
}

describe.each(SCRIPTS)('npm run $name', ({ name, path, usage, badValue, names }) => {
  it('prints its own usage for --help and exits 0', async () => {
    const r = await run(path, '--help');
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith(usage)).toBe(true);
    expect(r.stdout).toContain('--help');
    expect(r.stderr).toBe('');
  });

  it('names an unknown option in one line and exits 2', async () => {
    const r = await run(path, '--no-such-option');
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^${name}: .*--no-such-option`))]);
  });

  it('names a value it cannot take in one line and exits 2', async () => {
    const r = await run(path, ...badValue);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringContaining(names)]);
  });
});
