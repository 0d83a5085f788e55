/**
 * The docs a newcomer and an operator read: the README stays short with the two commands
 * on its first screen, every relative link and anchor in the Markdown resolves, and the
 * configuration table of docs/operations.md lists exactly the environment the code reads
 * (the config schemas of packages/runtime, each service and npm start), and its metrics
 * table exactly the pipeline's metrics.
 */

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { kafkaServiceEnv, PipelineMetrics } from '@churn/runtime';
import { describe, expect, it } from 'vitest';
import { anchorsOf, withoutFencedCode } from './markdown.ts';
import { read, root } from './repo.ts';

const README_MAX_BYTES = 12_288;
const FIRST_SCREEN_LINES = 40;
/** The two commands of the README: test and run, each after the Node environment and a clean install. */
const COMMANDS = ['test', 'start'].map((script) => `. scripts/node-env.sh && npm ci && npm ${script}`);

/** The Markdown files whose links are checked: the README, CONTRIBUTING and every page in docs/. */
const MARKDOWN = [
  'README.md',
  'CONTRIBUTING.md',
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** Markdown without fenced code blocks and inline code spans, whose contents are not links. */
function prose(markdown: string): string {
  return withoutFencedCode(markdown).replace(/(`+)[^`\n]*?\1/g, '');
}

/** Every link target in a Markdown file: inline links and images, and reference definitions. */
function linksOf(markdown: string): string[] {
  const text = prose(markdown);
  const inline = [...text.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1] ?? '');
  const references = [...text.matchAll(/^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/gm)].map((m) => m[1] ?? '');
  return [...inline, ...references];
}

/** What is wrong with one link of `from` (a path from the repository root), or null when it resolves. */
function brokenLink(from: string, target: string): string | null {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return null; // https:, mailto: and the like
  const hash = target.indexOf('#');
  const path = decodeURIComponent(hash < 0 ? target : target.slice(0, hash));
  const anchor = hash < 0 ? null : decodeURIComponent(target.slice(hash + 1));
  const file = path === '' ? join(root, from) : resolve(dirname(join(root, from)), path);
  if (!existsSync(file)) return `${target}: no file ${relative(root, file)}`;
  if (anchor === null || anchor === '') return null;
  if (statSync(file).isDirectory() || !file.endsWith('.md')) return null; // anchors into code are lines
  const anchors = anchorsOf(readFileSync(file, 'utf8'));
  return anchors.has(anchor) ? null : `${target}: no heading #${anchor} in ${relative(root, file)}`;
}

/** The text of a `## ` section of a Markdown file, up to the next heading of that level. */
function section(markdown: string, heading: string): string | undefined {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => l.trim() === `## ${heading}`);
  if (start < 0) return undefined;
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((l) => /^## /.test(l));
  return (end < 0 ? rest : rest.slice(0, end)).join('\n');
}

/** The names in backquotes that match `pattern` in the first column of a Markdown table's rows. */
function firstColumnNames(text: string, pattern: RegExp): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const cells = line.split('|');
    if (!line.trim().startsWith('|') || cells.length < 3) continue;
    for (const [, name] of (cells[1] ?? '').matchAll(/`([^`]+)`/g)) if (pattern.test(name ?? '')) names.add(name ?? '');
  }
  return names;
}

/** The UPPER_CASE names in backquotes in the first column of a Markdown table's rows. */
const tableVariables = (text: string) => firstColumnNames(text, /^[A-Z][A-Z0-9_]*$/);

/**
 * The keys of the environment shapes `npm start` and churnctl define in packages/cli/src
 * (zod schemas keyed by variable name, as in packages/runtime/src/config.ts).
 */
function cliEnvironment(): string[] {
  const dir = join(root, 'packages/cli/src');
  const names: string[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))) {
    const source = readFileSync(join(dir, file), 'utf8');
    for (const [, name] of source.matchAll(/^\s+([A-Z][A-Z0-9_]*): z\./gm)) names.push(name ?? '');
  }
  return names;
}

/** Every environment variable the code reads through a config schema: the services', npm start's, churnctl's. */
async function environmentRead(): Promise<Set<string>> {
  const names = new Set<string>(Object.keys(kafkaServiceEnv));
  for (const service of readdirSync(join(root, 'services'))) {
    const config = join(root, 'services', service, 'src/config.ts');
    if (!existsSync(config)) continue;
    const module = (await import(config)) as { configShape?: Record<string, unknown> };
    for (const name of Object.keys(module.configShape ?? {})) names.add(name);
  }
  for (const name of cliEnvironment()) names.add(name);
  return names;
}

describe('README', () => {
  const readme = read('README.md');

  it(`is at most ${README_MAX_BYTES} bytes`, () => {
    expect(Buffer.byteLength(readme, 'utf8')).toBeLessThanOrEqual(README_MAX_BYTES);
  });

  it(`shows the test and run commands within its first ${FIRST_SCREEN_LINES} lines`, () => {
    const firstScreen = readme.split('\n').slice(0, FIRST_SCREEN_LINES);
    for (const command of COMMANDS) expect(firstScreen.map((l) => l.trim())).toContain(command);
  });

  it('shows commands that exist: the Node environment script and the npm scripts', () => {
    expect(existsSync(join(root, 'scripts/node-env.sh'))).toBe(true);
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    expect(Object.keys(scripts)).toEqual(expect.arrayContaining(['test', 'start']));
  });
});

describe('links', () => {
  it.each(MARKDOWN)('every relative link and anchor in %s resolves', (file) => {
    const broken = linksOf(read(file))
      .map((target) => brokenLink(file, target))
      .filter((problem) => problem !== null);
    expect(broken).toEqual([]);
  });

  it('the link check itself sees a missing file, a missing heading, and links only outside code', () => {
    expect(brokenLink('README.md', 'docs/no-such-page.md')).toMatch(/no file/);
    expect(brokenLink('README.md', 'CONTRIBUTING.md#no-such-heading')).toMatch(/no heading/);
    expect(linksOf('see [a](x.md) and `[b](y.md)`\n```\n[c](z.md)\n```\n[d]: w.md')).toEqual(['x.md', 'w.md']);
  });
});

describe("docs/operations.md's configuration section", () => {
  const configuration = section(read('docs/operations.md'), 'Configuration');

  it('exists', () => {
    expect(configuration).toBeDefined();
  });

  it('lists in its table every environment variable the code reads', async () => {
    const code = await environmentRead();
    expect(code.size).toBeGreaterThan(Object.keys(kafkaServiceEnv).length);
    const listed = tableVariables(configuration ?? '');
    expect([...code].filter((name) => !listed.has(name))).toEqual([]);
  });

  it('lists in its table only variables the code reads', async () => {
    const code = await environmentRead();
    const listed = tableVariables(configuration ?? '');
    expect(listed.size).toBeGreaterThan(0);
    expect([...listed].filter((name) => !code.has(name))).toEqual([]);
  });
});

describe("docs/operations.md's metrics table", () => {
  const metricsSection = section(read('docs/operations.md'), 'Health and metrics');
  const exported = new PipelineMetrics({ defaultMetrics: false }).registry
    .getMetricsAsArray()
    .map((m) => m.name)
    .filter((name) => name.startsWith('churn_'));
  const listed = firstColumnNames(metricsSection ?? '', /^churn_[a-z0-9_]+$/);

  it('lists every churn_ metric the services export', () => {
    expect(exported.length).toBeGreaterThan(0);
    expect(exported.filter((name) => !listed.has(name))).toEqual([]);
  });

  it('lists no churn_ metric the services do not export', () => {
    expect(listed.size).toBeGreaterThan(0);
    expect([...listed].filter((name) => !exported.includes(name))).toEqual([]);
  });
});
