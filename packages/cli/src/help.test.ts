/**
 * Every command answers `--help` with its own usage and exit code 0, and refuses an
 * option or argument it does not take in one line naming it, with exit code 2: each
 * churnctl command, `npm start`, the services' mains, the local infra scripts and
 * helm.sh. The scripts' help starts nothing.
 */
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadPolicy } from '@churn/domain';
import { DEFAULT_POLICY_FILE, readJsonFile } from '@churn/runtime';
import { configShape as engineConfig } from '@churn/service-engine';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from './commands.ts';
import { offlineEnv, onKafkaEnv } from './start-env.ts';
import { node, repoRoot } from './testing/command.ts';
import { servicesOf } from './topologies.ts';

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `node --conditions=source args...` from the repository's root: exit code, stdout, stderr. */
function runNode(args: readonly string[], env: Record<string, string> = {}): Promise<Ran> {
  return node(args, env).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: Ran) => e,
  );
}

const churnctl = (...args: string[]) => runNode(['packages/cli/src/churnctl.ts', ...args]);

/** The lines of a stream's text, without the last newline. */
const lines = (text: string) => text.replace(/\n$/, '').split('\n');

/** The first line of a usage text: the command's synopsis. */
const synopsis = (usage: string) => lines(usage)[0]?.trim() ?? '';

describe('churnctl', () => {
  describe.each(COMMANDS.map((c) => ({ ...c, words: c.name.split(' ') })))('$name', (command) => {
    const others = COMMANDS.filter((c) => c.name !== command.name);

    it('prints its own usage, and no other command, for --help, -h and churnctl help', async () => {
      const runs = await Promise.all([
        churnctl(...command.words, '--help'),
        churnctl(...command.words, '-h'),
        churnctl('help', ...command.words),
      ]);
      for (const r of runs) {
        expect(r.code).toBe(0);
        expect(r.stderr).toBe('');
        expect(r.stdout).toContain(command.usage);
        for (const other of others) expect(r.stdout).not.toContain(synopsis(other.usage));
      }
      expect(runs[1]?.stdout).toBe(runs[0]?.stdout);
      expect(runs[2]?.stdout).toBe(runs[0]?.stdout);
    });

    // An option another command takes and this one does not.
    const foreign = others
      .flatMap((c) => Object.keys(c.options))
      .find((option) => !Object.hasOwn(command.options, option));

    it(`refuses an option of another command (--${foreign}) in one line naming it, exit code 2`, async () => {
      const r = await churnctl(...command.words, `--${foreign}`);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(lines(r.stderr)).toEqual([
        `churnctl ${command.name}: unknown option --${foreign} (see churnctl ${command.name} --help)`,
      ]);
    });
  });

  it('prints every command usage for --help, help and no arguments, each once and in order', async () => {
    const runs = await Promise.all([churnctl('--help'), churnctl('help'), churnctl()]);
    for (const r of runs) {
      expect(r.code).toBe(0);
      expect(r.stderr).toBe('');
      let at = 0;
      for (const command of COMMANDS) {
        const found = r.stdout.indexOf(command.usage, at);
        expect(found, command.name).toBeGreaterThanOrEqual(at);
        expect(r.stdout.indexOf(command.usage, found + 1), command.name).toBe(-1);
        at = found + command.usage.length;
      }
    }
  });

  it('prints the usage of every command under a word (dlq) for --help and help', async () => {
    const groups = [...new Set(COMMANDS.filter((c) => c.name.includes(' ')).map((c) => c.name.split(' ')[0]))];
    expect(groups.length).toBeGreaterThan(0);
    for (const group of groups as string[]) {
      const under = COMMANDS.filter((c) => c.name.startsWith(`${group} `));
      for (const r of await Promise.all([churnctl(group, '--help'), churnctl('help', group)])) {
        expect(r.code).toBe(0);
        for (const c of COMMANDS) {
          if (under.includes(c)) expect(r.stdout).toContain(c.usage);
          else expect(r.stdout).not.toContain(synopsis(c.usage));
        }
      }
    }
  });

  it('reports every other usage mistake in one line with exit code 2', async () => {
    const mistakes: [string[], string][] = [
      [['no-such-command'], 'churnctl: unknown command no-such-command (see churnctl help)'],
      [['--no-such-option'], 'churnctl: unknown option --no-such-option (see churnctl help)'],
      [['replay', '--no-such-option'], 'churnctl replay: unknown option --no-such-option (see churnctl replay --help)'],
      [['help', 'no-such-command'], 'churnctl help: unknown command no-such-command (see churnctl help --help)'],
      [['replay', '--in', 'x.jsonl'], 'churnctl replay: --out is required (see churnctl replay --help)'],
      [['replay', '--in'], 'churnctl replay: --in needs a value (see churnctl replay --help)'],
      [
        ['generate', '--customers', 'many', '--months', '1', '--seed', '1', '--out', 'x'],
        'churnctl generate: --customers must be a positive whole number, got many (see churnctl generate --help)',
      ],
      [['tail', 'extra'], 'churnctl tail: unexpected argument extra (see churnctl tail --help)'],
      [['dlq'], 'churnctl dlq: takes inspect or replay (see churnctl dlq --help)'],
      [['dlq', 'nope'], 'churnctl dlq: takes inspect or replay, got nope (see churnctl dlq --help)'],
    ];
    const runs = await Promise.all(mistakes.map(([args]) => churnctl(...args)));
    for (const [i, r] of runs.entries()) {
      expect(r.code, mistakes[i]?.[0].join(' ')).toBe(2);
      expect(lines(r.stderr)).toEqual([mistakes[i]?.[1]]);
    }
  });

  it('keeps exit code 78 for a bad Kafka environment', async () => {
    const r = await churnctl('tail', '--topic', 'churn.decisions.v1');
    expect(r.code).toBe(78);
    expect(r.stderr).toContain('KAFKA_BROKERS');
  });
});

describe('npm start', () => {
  it('prints its usage with every variable of both modes for --help, and runs nothing', async () => {
    const out = mkdtempSync(join(tmpdir(), 'churn-start-help-'));
    const r = await runNode(['packages/cli/src/start.ts', '--help'], { CHURN_OUTPUT_DIR: join(out, 'run') });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout.startsWith('npm start')).toBe(true);
    for (const name of [...Object.keys(offlineEnv), ...Object.keys(onKafkaEnv)])
      expect(r.stdout).toMatch(new RegExp(`^  ${name} `, 'm'));
    expect(existsSync(join(out, 'run'))).toBe(false);
  });

  it('refuses an unknown option or argument in one line with exit code 2, and runs nothing', async () => {
    const out = mkdtempSync(join(tmpdir(), 'churn-start-help-'));
    const env = { CHURN_OUTPUT_DIR: join(out, 'run') };
    const option = await runNode(['packages/cli/src/start.ts', '--no-such-option'], env);
    const argument = await runNode(['packages/cli/src/start.ts', 'nope'], env);
    expect(option.code).toBe(2);
    expect(lines(option.stderr)).toEqual(['churn-pipeline: unknown option --no-such-option (see --help)']);
    expect(argument.code).toBe(2);
    expect(lines(argument.stderr)).toEqual(['churn-pipeline: unexpected argument nope (see --help)']);
    expect(existsSync(join(out, 'run'))).toBe(false);
  });
});

describe('the services', () => {
  const policy = loadPolicy(readJsonFile(DEFAULT_POLICY_FILE));
  const services = [...servicesOf(policy, 'engine'), ...servicesOf(policy, 'services')];

  it.each(services)('$service prints what it reads, writes and needs for --help', async ({ dir, topologies }) => {
    const r = await runNode([`services/${dir}/src/main.ts`, '--help']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const internal = new Set(topologies.flatMap((t) => (t.internalTopics ?? []).map((i) => i.topic)));
    const section = (title: string) => r.stdout.split(`\n${title}:\n`)[1]?.split('\n\n')[0] ?? '';
    const listed = (title: string) =>
      section(title)
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean);
    const topics = (pick: 'inputs' | 'outputs') =>
      [...new Set(topologies.flatMap((t) => t[pick]).filter((t) => !internal.has(t)))].sort();
    expect(listed('Reads')).toEqual(topics('inputs'));
    expect(listed('Writes')).toEqual(topics('outputs'));
    // Every service reads the engine's configuration: the Kafka settings and the policy file.
    expect(listed('Environment').map((l) => l.split(' ')[0])).toEqual(Object.keys(engineConfig));
  });

  it.each(services)('$service refuses an unknown option in one line with exit code 2', async ({ service, dir }) => {
    const r = await runNode([`services/${dir}/src/main.ts`, '--no-such-option']);
    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toEqual([`${service}: unknown option --no-such-option (see --help)`]);
  });
});

/** The infra scripts: those package.json runs (`infra:up`, ...) and the helm builder CI runs. */
const packageScripts = (
  JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
).scripts;
const infraScripts = [
  ...Object.values(packageScripts).flatMap((command) => /^bash (infra\/\S+\.sh)$/.exec(command)?.[1] ?? []),
  'infra/tools/helm.sh',
  'infra/tools/promtool.sh',
];

/** What a script would run to start or build something; each fake records its call and fails. */
const TOOLS = ['java', 'keytool', 'mvn', 'curl', 'go', 'node'];

/** Runs `bash script args...` with fake tools first on PATH and its data and cache in a fresh folder. */
async function runScript(script: string, ...args: string[]): Promise<Ran & { calls: string[]; dirs: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'churn-infra-help-'));
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  const calls = join(dir, 'calls');
  for (const tool of TOOLS) {
    writeFileSync(join(bin, tool), `#!/bin/sh\necho ${tool} >> '${calls}'\nexit 1\n`);
    chmodSync(join(bin, tool), 0o755);
  }
  const env = {
    PATH: `${bin}:${process.env.PATH ?? ''}`,
    HOME: process.env.HOME ?? '',
    CHURN_INFRA_DIR: join(dir, 'infra'),
    CHURN_CACHE_DIR: join(dir, 'cache'),
  };
  const ran = await promisify(execFile)('bash', [join(repoRoot, script), ...args], { cwd: repoRoot, env }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: Ran) => e,
  );
  return {
    ...ran,
    calls: existsSync(calls) ? lines(readFileSync(calls, 'utf8')) : [],
    dirs: ['infra', 'cache'].filter((d) => existsSync(join(dir, d))),
  };
}

describe.each(infraScripts.map((path) => ({ path, name: path.split('/').at(-1) as string })))(
  '$path',
  ({ path, name }) => {
    const source = readFileSync(join(repoRoot, path), 'utf8');

    it('prints its usage, what it does and the CHURN_* variables it reads for --help, and starts nothing', async () => {
      const r = await runScript(path, '--help');
      expect(r.code).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.stdout.startsWith(`Usage: bash ${path}`)).toBe(true);
      // What it does: its opening comment.
      expect(r.stdout).toContain(lines(source)[1]?.replace(/^# /, ''));
      const environment = r.stdout.split('\nEnvironment (NAME=default):\n')[1] ?? '';
      for (const [, variable, fallback] of source.matchAll(/\$\{(CHURN_[A-Z0-9_]+):-([^}]*)\}/g))
        expect(environment).toContain(`  ${variable}=${fallback}\n`);
      expect(r.calls).toEqual([]);
      expect(r.dirs).toEqual([]);
    });

    it('refuses an unknown option or argument in one line with exit code 2, and starts nothing', async () => {
      for (const [arg, problem] of [
        ['--no-such-option', 'unknown option'],
        ['nope', 'unknown argument'],
      ]) {
        const r = await runScript(path, arg as string);
        expect(r.code).toBe(2);
        expect(lines(r.stderr)).toEqual([`${name}: ${problem} ${arg} (see ${name} --help)`]);
        expect(r.calls).toEqual([]);
        expect(r.dirs).toEqual([]);
      }
    });
  },
);

describe('the infra scripts list the environment of the settings they use', () => {
  const lib = readFileSync(join(repoRoot, 'infra/local/lib.sh'), 'utf8');
  const libVariables = [...lib.matchAll(/^[A-Z_]+="\$\{(CHURN_[A-Z0-9_]+):-/gm)].map((m) => m[1]);

  it('up.sh, which uses every setting of lib.sh, lists every variable behind them', async () => {
    const r = await runScript('infra/local/up.sh', '--help');
    expect(libVariables.length).toBeGreaterThan(5);
    for (const variable of libVariables) expect(r.stdout).toMatch(new RegExp(`^  ${variable}=`, 'm'));
  });

  it('status.sh lists the port behind the broker address it probes', async () => {
    // status.sh probes $KAFKA_BOOTSTRAP, which lib.sh builds from $KAFKA_PORT (CHURN_KAFKA_PORT).
    expect(readFileSync(join(repoRoot, 'infra/local/status.sh'), 'utf8')).toContain('"$KAFKA_BOOTSTRAP"');
    expect(lib).toMatch(/^KAFKA_BOOTSTRAP=".*\$KAFKA_PORT"$/m);
    expect(lib).toMatch(/^KAFKA_PORT="\$\{CHURN_KAFKA_PORT:-/m);
    const r = await runScript('infra/local/status.sh', '--help');
    expect(r.stdout).toMatch(/^ {2}CHURN_KAFKA_PORT=/m);
  });

  it("helm.sh lists the cache's variable and none of the broker's", async () => {
    const r = await runScript('infra/tools/helm.sh', '--help');
    expect(r.stdout).toMatch(/^ {2}CHURN_CACHE_DIR=/m);
    expect(r.stdout).not.toMatch(/^ {2}CHURN_KAFKA_/m);
  });
});
