/**
 * docker-compose.yml, the Dockerfile and infra/prometheus/prometheus.yml, kept true
 * without a Docker engine: images are pinned (Kafka at the version the tests run
 * against), every command runs a file the image's build emits, every bind mount exists,
 * every variable a churn service is given is one it reads and accepts, and Prometheus
 * scrapes the services where they serve their metrics.
 */

import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, posix, relative } from 'node:path';
import { PipelineMetrics, parseConfig, startOpsServer } from '@churn/runtime';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { read, root } from './repo.ts';

const exists = (path: string) => existsSync(join(root, path));

// ---------------------------------------------------------------- compose

interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  volumes?: Array<string | { type?: string; source?: string; target?: string }>;
  ports?: Array<string | { target?: number; published?: number | string }>;
  depends_on?: string[] | Record<string, unknown>;
  profiles?: string[];
}
interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

/** The compose file with YAML merge keys (`<<: *churn-service`) resolved. */
function parseCompose(text: string): Compose {
  return parseYaml(text, { merge: true }) as Compose;
}

const buildOf = (s: Service) => (typeof s.build === 'string' ? { context: s.build } : s.build);
const environmentOf = (s: Service): Record<string, string> =>
  Array.isArray(s.environment)
    ? Object.fromEntries(s.environment.map((e) => [e.split('=')[0] as string, e.split('=').slice(1).join('=')]))
    : Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, v === null ? '' : String(v)]));
const commandOf = (s: Service): string[] | undefined =>
  typeof s.command === 'string' ? s.command.split(/\s+/) : s.command;
/** Bind mounts: host path (relative to the repository) and container path. */
const bindsOf = (s: Service) =>
  (s.volumes ?? []).flatMap((v) => {
    const [source, target] =
      typeof v === 'string' ? (v.split(':') as [string, string]) : [v.source ?? '', v.target ?? ''];
    const bind = typeof v === 'string' ? /^[./~]/.test(source) : v.type === 'bind';
    return bind ? [{ host: posix.normalize(source), target }] : [];
  });
const publishedOf = (s: Service) =>
  (s.ports ?? []).map((p) => {
    if (typeof p !== 'string') return { host: String(p.published ?? ''), container: String(p.target ?? '') };
    const parts = p.split('/')[0]?.split(':') ?? [];
    return { host: parts.length > 1 ? (parts[parts.length - 2] as string) : '', container: parts.at(-1) as string };
  });

// ---------------------------------------------------------------- Dockerfile

interface Dockerfile {
  /** Build stages, in order, each with its WORKDIR, ENV, COPY instructions, RUN commands and CMD. */
  stages: Array<{
    name: string | undefined;
    workdir: string;
    env: Record<string, string>;
    copies: Array<{ from: string | undefined; sources: string[]; dest: string }>;
    runs: string[];
    cmd: string[] | undefined;
  }>;
}

/** The instructions these checks need, from a Dockerfile's text (continuations joined). */
function parseDockerfile(text: string): Dockerfile {
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const stages: Dockerfile['stages'] = [];
  for (const line of lines) {
    const [instruction = '', ...rest] = line.split(/\s+/);
    const args = rest.join(' ');
    const stage = stages.at(-1);
    switch (instruction.toUpperCase()) {
      case 'FROM':
        stages.push({
          name: /\bAS\s+(\S+)/i.exec(args)?.[1],
          workdir: '/',
          env: {},
          copies: [],
          runs: [],
          cmd: undefined,
        });
        break;
      case 'WORKDIR':
        if (stage) stage.workdir = posix.resolve(stage.workdir, args);
        break;
      case 'ENV':
        for (const m of args.matchAll(/(\w+)=("[^"]*"|\S+)/g)) {
          if (stage) stage.env[m[1] as string] = (m[2] as string).replace(/^"|"$/g, '');
        }
        break;
      case 'COPY': {
        const words = args.split(/\s+/);
        const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
        const paths = words.filter((w) => !w.startsWith('--'));
        stage?.copies.push({ from, sources: paths.slice(0, -1), dest: paths.at(-1) as string });
        break;
      }
      case 'RUN':
        stage?.runs.push(args);
        break;
      case 'CMD':
        if (stage) stage.cmd = args.startsWith('[') ? (JSON.parse(args) as string[]) : ['sh', '-c', args];
        break;
    }
  }
  return { stages };
}

/** .dockerignore as a predicate on repository paths (a matched directory excludes its contents). */
function dockerIgnore(text: string): (path: string) => boolean {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const glob = posix.normalize(l.replace(/^!/, '').replace(/^\/+/, ''));
      const source = glob
        .split(/(\*\*\/|\*\*|\*|\?)/)
        .map((part) =>
          part === '**/'
            ? '(?:.*/)?'
            : part === '**'
              ? '.*'
              : part === '*'
                ? '[^/]*'
                : part === '?'
                  ? '[^/]'
                  : part.replace(/[.+^${}()|[\]\\]/g, '\\$&'),
        )
        .join('');
      return { negate, pattern: new RegExp(`^${source}(?:/.*)?$`) };
    });
  return (path) => {
    const normal = posix.normalize(path).replace(/^\.\/?/, '');
    let ignored = false;
    for (const rule of rules) if (rule.pattern.test(normal)) ignored = !rule.negate;
    return ignored;
  };
}

// ---------------------------------------------------------------- what the build emits

const parsedProjects = new Map<string, ts.ParsedCommandLine>();
/** A TypeScript project (a tsconfig.json) as tsc reads it, `extends` resolved. */
function project(tsconfig: string): ts.ParsedCommandLine {
  const file = join(root, tsconfig);
  let parsed = parsedProjects.get(file);
  if (parsed === undefined) {
    parsed = ts.getParsedCommandLineOfConfigFile(
      file,
      {},
      {
        ...ts.sys,
        onUnRecoverableConfigFileDiagnostic: (d) => {
          throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
        },
      },
    ) as ts.ParsedCommandLine;
    parsedProjects.set(file, parsed);
  }
  return parsed;
}
const tsconfigOf = (path: string) => (path.endsWith('.json') ? path : posix.join(path, 'tsconfig.json'));

/** Every project `tsc -b` builds for these, references followed. */
function buildClosure(projects: readonly string[]): Set<string> {
  const seen = new Set<string>();
  const visit = (tsconfig: string) => {
    if (seen.has(tsconfig)) return;
    seen.add(tsconfig);
    for (const ref of project(tsconfig).projectReferences ?? []) {
      visit(tsconfigOf(relative(root, ref.path).split('\\').join('/')));
    }
  };
  for (const p of projects) visit(tsconfigOf(posix.normalize(p)));
  return seen;
}

/** The projects a Dockerfile's `tsc -b …` commands build. */
function builtProjects(dockerfile: Dockerfile): string[] {
  return dockerfile.stages.flatMap((s) =>
    s.runs.flatMap((run) =>
      [...run.matchAll(/\btsc\s+(?:-b|--build)\s+((?:[^\s&|;-]\S*\s*)+)/g)].flatMap((m) =>
        (m[1] as string).trim().split(/\s+/),
      ),
    ),
  );
}

/**
 * The TypeScript source a built file comes from, or why there is none: the nearest
 * tsconfig.json above the file must emit into the file's directory tree (outDir), the
 * source must exist and be one of the project's files, the project must be among
 * those the image builds, and the source must reach the image (COPY, .dockerignore).
 */
function builtFrom(jsPath: string, image: { closure: Set<string>; copied: (path: string) => boolean }): string {
  let dir = posix.dirname(posix.normalize(jsPath));
  while (dir !== '.' && !exists(posix.join(dir, 'tsconfig.json'))) dir = posix.dirname(dir);
  const tsconfig = posix.join(dir, 'tsconfig.json');
  if (!exists(tsconfig)) throw new Error(`${jsPath}: no tsconfig.json above it`);
  const parsed = project(tsconfig);
  const outDir = parsed.options.outDir && relative(root, parsed.options.outDir).split('\\').join('/');
  const rootDir = parsed.options.rootDir && relative(root, parsed.options.rootDir).split('\\').join('/');
  if (!outDir || !rootDir) throw new Error(`${tsconfig}: no outDir/rootDir, so it emits nothing at ${jsPath}`);
  const inOut = posix.relative(outDir, jsPath);
  if (inOut.startsWith('..')) throw new Error(`${jsPath} is not under ${tsconfig}'s outDir ${outDir}`);
  const source = posix.join(rootDir, inOut.replace(/\.js$/, '.ts'));
  if (!exists(source)) throw new Error(`${jsPath}: its source ${source} does not exist`);
  if (!parsed.fileNames.map((f) => relative(root, f).split('\\').join('/')).includes(source)) {
    throw new Error(`${jsPath}: ${source} is not in ${tsconfig}'s files`);
  }
  if (!image.closure.has(tsconfig)) {
    throw new Error(`${jsPath}: ${tsconfig} is not among the projects the Dockerfile builds`);
  }
  if (!image.copied(source) || !image.copied(tsconfig)) {
    throw new Error(`${jsPath}: ${source} or ${tsconfig} does not reach the image's build stage`);
  }
  return source;
}

// ---------------------------------------------------------------- environment

/**
 * The environment variables a service reads: the keys of the `configShape` its
 * `config.ts` exports (what its entry point hands to loadConfig), and any
 * `process.env.NAME` in its sources. Every other `process.env` in them fails the test.
 */
async function variablesRead(mainSource: string): Promise<{ names: Set<string>; shapes: Record<string, unknown>[] }> {
  const dir = posix.dirname(mainSource);
  const names = new Set<string>();
  const { configShape } = (await import(join(root, dir, 'config.ts'))) as { configShape?: Record<string, unknown> };
  if (configShape === undefined) throw new Error(`${dir}/config.ts exports no configShape`);
  for (const key of Object.keys(configShape)) names.add(key);
  let uses = 0;
  let followed = 0;
  for (const file of readdirSync(join(root, dir), { recursive: true }) as string[]) {
    if (!file.endsWith('.ts') || file.endsWith('.test.ts')) continue;
    const text = read(posix.join(dir, file));
    uses += [...text.matchAll(/process\.env\b/g)].length;
    for (const m of text.matchAll(/process\.env(?:\.(\w+)|\[\s*['"](\w+)['"]\s*\])/g)) {
      names.add((m[1] ?? m[2]) as string);
      followed += 1;
    }
  }
  if (uses !== followed) throw new Error(`${dir} reads process.env in a way this test does not follow`);
  return { names, shapes: [configShape] };
}

// ---------------------------------------------------------------- the checks

const composeFile = parseCompose(read('docker-compose.yml'));
const dockerfile = parseDockerfile(read('Dockerfile'));
const ignored = dockerIgnore(exists('.dockerignore') ? read('.dockerignore') : '');
const prometheusConfig = parseYaml(read('infra/prometheus/prometheus.yml')) as {
  rule_files?: string[];
  scrape_configs: Array<{ job_name: string; metrics_path?: string; static_configs?: Array<{ targets: string[] }> }>;
};

/** The images compose builds from this repository. */
const localImages = new Set(
  Object.values(composeFile.services)
    .filter((s) => buildOf(s) !== undefined && s.image !== undefined)
    .map((s) => s.image as string),
);
/** The churn services: those that run an image built from this repository's Dockerfile. */
const churnServices = Object.entries(composeFile.services).filter(
  ([, s]) => buildOf(s) !== undefined || localImages.has(s.image ?? ''),
);

/** Whether a repository path reaches the build stage that runs `tsc -b`, under the same path. */
function copiedIntoBuild(stage: Dockerfile['stages'][number], ignore: (path: string) => boolean) {
  return (path: string) =>
    !ignore(path) &&
    stage.copies.some(
      (c) =>
        c.from === undefined &&
        c.sources.some((src) => {
          const normal = posix.normalize(src);
          const at = c.dest.endsWith('/') ? posix.join(c.dest, basename(normal)) : c.dest;
          const samePlace = posix.resolve(stage.workdir, at) === posix.resolve(stage.workdir, normal);
          return samePlace && (path === normal || path.startsWith(`${normal}/`));
        }),
    );
}

/** What an image built from this Dockerfile holds: the projects tsc builds and the sources it copies. */
function imageOf(file: Dockerfile, ignore = ignored) {
  const stage = file.stages.find((s) => builtProjects({ stages: [s] }).length > 0);
  return {
    closure: buildClosure(builtProjects(file)),
    copied: stage ? copiedIntoBuild(stage, ignore) : () => false,
  };
}
const image = imageOf(dockerfile);

/** What is wrong with a Dockerfile: COPY sources missing or ignored, a CMD nothing builds, an unexposed metrics port. */
function dockerfileProblems(file: Dockerfile, text: string, ignore = ignored): string[] {
  const problems: string[] = [];
  const sources = file.stages.flatMap((s) => s.copies.filter((c) => c.from === undefined)).flatMap((c) => c.sources);
  if (sources.length === 0) problems.push('copies nothing from the repository');
  for (const source of sources) {
    if (!exists(source)) problems.push(`COPY ${source}: does not exist`);
    else if (ignore(source)) problems.push(`COPY ${source}: .dockerignore excludes it`);
  }
  const cmd = file.stages.at(-1)?.cmd ?? [];
  if (cmd[0] !== 'node') problems.push(`CMD ${cmd.join(' ')}: not a node command`);
  try {
    builtFrom(cmd[1] ?? '', imageOf(file, ignore));
  } catch (err) {
    problems.push(`CMD: ${(err as Error).message}`);
  }
  const port = file.stages.at(-1)?.env.METRICS_PORT;
  if (port === undefined) problems.push('sets no METRICS_PORT');
  else if (!new RegExp(`^EXPOSE\\s+(?:.*\\s)?${port}(?:\\s|$)`, 'm').test(text)) {
    problems.push(`does not EXPOSE its METRICS_PORT ${port}`);
  }
  return problems;
}

/** The final image's environment (Dockerfile ENV), under a service's compose environment. */
const imageEnv = dockerfile.stages.at(-1)?.env ?? {};

describe('docker-compose.yml', () => {
  it('parses, with the merge keys of the shared churn service resolved', () => {
    expect(Object.keys(composeFile.services).length).toBeGreaterThan(0);
    expect(read('docker-compose.yml')).toContain('<<:');
    expect(JSON.stringify(composeFile)).not.toContain('"<<"');
    expect(churnServices.length).toBeGreaterThan(0);
    for (const [name, s] of churnServices) expect(commandOf(s), `${name} has a command`).toBeDefined();
  });

  it.each(Object.entries(composeFile.services))('%s: runs the local build or a pinned image', (_, s) => {
    const build = buildOf(s);
    if (build !== undefined) {
      const context = posix.normalize(build.context ?? '.');
      expect(exists(posix.join(context, build.dockerfile ?? 'Dockerfile'))).toBe(true);
      if (s.image !== undefined) expect(s.image).not.toMatch(/:latest$/);
      return;
    }
    expect(localImages.has(s.image ?? ''), `${s.image} is built here: this service needs build: too`).toBe(false);
    expect(s.image).toMatch(/^[a-z0-9][\w.\-/]*:[\w][\w.-]{0,127}(@sha256:[0-9a-f]{64})?$/);
    expect(s.image?.split('@')[0]?.split(':').at(-1)).not.toBe('latest');
  });

  it('runs Kafka at the version the local infrastructure and the tests run against', () => {
    const kafka = Object.values(composeFile.services).find((s) => s.image?.startsWith('apache/kafka:'));
    const local = /CHURN_KAFKA_VERSION:-([^}"]+)\}/.exec(read('infra/local/lib.sh'))?.[1];
    expect(local, 'infra/local/lib.sh has a default CHURN_KAFKA_VERSION').toBeDefined();
    expect(kafka?.image).toBe(`apache/kafka:${local}`);
    // The containers the integration tests start when no local broker runs.
    const setup = readdirSync(join(root, 'test/setup')).map((f) => read(posix.join('test/setup', f)));
    for (const text of setup) {
      for (const m of text.matchAll(/apache\/kafka:([\w.-]+)/g)) expect(m[1]).toBe(local);
    }
  });

  it.each(churnServices)("%s: its command runs a file the image's build emits", (_, s) => {
    const [program, file] = commandOf(s) ?? [];
    expect(program).toBe('node');
    expect(builtFrom(file as string, image)).toMatch(/\.ts$/);
  });

  it.each(Object.entries(composeFile.services).filter(([, s]) => bindsOf(s).length > 0))(
    '%s: every bind-mounted host path exists',
    (_, s) => {
      for (const { host } of bindsOf(s)) expect(exists(host), host).toBe(true);
    },
  );

  it.each(churnServices)('%s: sets only variables the service reads, with values it accepts', async (_, s) => {
    const [, file] = commandOf(s) ?? [];
    const { names, shapes } = await variablesRead(builtFrom(file as string, image));
    const env = environmentOf(s);
    expect(Object.keys(env).length).toBeGreaterThan(0);
    expect(Object.keys(env).filter((k) => !names.has(k))).toEqual([]);
    expect(shapes.length).toBeGreaterThan(0);
    for (const shape of shapes) {
      expect(() => parseConfig(shape as never, { ...imageEnv, ...env })).not.toThrow();
    }
  });

  it('names only existing services in depends_on, and publishes each host port once', () => {
    const services = Object.keys(composeFile.services);
    for (const [name, s] of Object.entries(composeFile.services)) {
      const deps = Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {});
      for (const dep of deps) expect(services, `${name} depends on ${dep}`).toContain(dep);
    }
    const hostPorts = Object.values(composeFile.services).flatMap((s) => publishedOf(s).map((p) => p.host));
    expect(new Set(hostPorts).size).toBe(hostPorts.length);
  });

  it("the header's URLs are ports compose publishes", () => {
    const header = read('docker-compose.yml')
      .split('\n')
      .filter((l) => l.startsWith('#'))
      .join('\n');
    const urls = [...header.matchAll(/https?:\/\/(?:127\.0\.0\.1|localhost):(\d+)/g)].map((m) => m[1]);
    expect(urls.length).toBeGreaterThan(0);
    const published = Object.values(composeFile.services).flatMap((s) => publishedOf(s).map((p) => p.host));
    for (const port of urls) expect(published).toContain(port);
  });
});

describe('Prometheus in compose', () => {
  const prometheus = Object.entries(composeFile.services).find(([, s]) => s.image?.startsWith('prom/prometheus:'));
  const targets = prometheusConfig.scrape_configs.flatMap((job) =>
    (job.static_configs ?? []).flatMap((c) => c.targets.map((t) => ({ job: job.job_name, target: t }))),
  );

  it('mounts its configuration from infra/prometheus', () => {
    expect(prometheus).toBeDefined();
    const binds = bindsOf(prometheus?.[1] ?? {});
    expect(binds).toContainEqual({ host: 'infra/prometheus/prometheus.yml', target: '/etc/prometheus/prometheus.yml' });
  });

  it('scrapes compose services on the port each serves its metrics on, and every churn service', async () => {
    expect(targets.length).toBeGreaterThan(0);
    for (const { target } of targets) {
      const [host, port] = target.split(':') as [string, string];
      if (host === 'localhost' || host === '127.0.0.1') continue;
      const service = composeFile.services[host];
      expect(service, `${target} names a compose service`).toBeDefined();
      if (service === undefined || !churnServices.some(([name]) => name === host)) continue;
      const [, file] = commandOf(service) ?? [];
      const { shapes } = await variablesRead(builtFrom(file as string, image));
      const config = parseConfig(shapes[0] as never, { ...imageEnv, ...environmentOf(service) }) as {
        METRICS_PORT?: number;
      };
      expect(String(config.METRICS_PORT), `${target}: the port ${host} serves /metrics on`).toBe(port);
    }
    const scraped = new Set(targets.map((t) => t.target.split(':')[0]));
    for (const [name] of churnServices) expect(scraped, `${name} is scraped`).toContain(name);
  });

  it("scrapes the path the services' ops server serves metrics on", async () => {
    const metrics = new PipelineMetrics({ defaultMetrics: false });
    const ops = await startOpsServer({ host: '127.0.0.1', port: 0, registry: metrics.registry, sources: () => [] });
    try {
      for (const job of prometheusConfig.scrape_configs) {
        const response = await fetch(`http://127.0.0.1:${ops.port}${job.metrics_path ?? '/metrics'}`);
        expect(response.status, job.job_name).toBe(200);
        expect(await response.text()).toContain('churn_events_consumed_total');
      }
    } finally {
      await ops.close();
    }
  });

  it('mounts the rules directory, and every rule file Prometheus loads comes from a mounted host directory', () => {
    const binds = bindsOf(prometheus?.[1] ?? {});
    const rules = binds.find((b) => b.target === '/etc/prometheus/rules');
    expect(rules, 'the rules directory is mounted').toBeDefined();
    expect(statSync(join(root, rules?.host as string)).isDirectory()).toBe(true);
    for (const pattern of prometheusConfig.rule_files ?? []) {
      const absolute = posix.resolve('/etc/prometheus', pattern);
      const bind = binds.find((b) => absolute.startsWith(`${b.target}/`));
      expect(bind, `${pattern} is under a bind mount`).toBeDefined();
      const hostDir = posix.join(bind?.host as string, posix.relative(bind?.target as string, dirname(absolute)));
      const glob = new RegExp(
        `^${basename(absolute)
          .replace(/[.+^${}()|[\]\\]/g, '\\$&')
          .replace(/\*/g, '.*')}$`,
      );
      expect(
        readdirSync(join(root, hostDir)).filter((f) => glob.test(f)),
        `${pattern} matches files`,
      ).not.toEqual([]);
    }
  });
});

describe('Dockerfile', () => {
  it('copies only sources that exist and .dockerignore lets through, builds what its CMD runs, exposes its metrics port', () => {
    expect(dockerfileProblems(dockerfile, read('Dockerfile'))).toEqual([]);
  });

  it('fails a missing COPY source, a CMD nothing builds, and a build that leaves out the services', () => {
    const text = read('Dockerfile');
    const problems = (edit: (t: string) => string, ignore = ignored) =>
      dockerfileProblems(parseDockerfile(edit(text)), edit(text), ignore);
    expect(problems((t) => t.replace('COPY schemas ./schemas', 'COPY schemaz ./schemaz'))).not.toEqual([]);
    expect(problems((t) => t.replace(/^CMD .*$/m, 'CMD ["node", "packages/cli/dist/nothing.js"]'))).not.toEqual([]);
    expect(problems((t) => t.replace(/tsc -b \S+/, 'tsc -b packages/contracts'))).not.toEqual([]);
    const ignoreFile = exists('.dockerignore') ? read('.dockerignore') : '';
    expect(problems((t) => t, dockerIgnore(`${ignoreFile}\n**/src\n`))).not.toEqual([]);
    expect(problems((t) => t, dockerIgnore(`${ignoreFile}\nschemas\n`))).not.toEqual([]);
    expect(problems((t) => t.replace(/^EXPOSE .*$/m, 'EXPOSE 8080'))).not.toEqual([]);
  });
});

describe('the checks themselves', () => {
  it('fail an unpinned image, a missing mount, an unknown variable and a command nothing builds', async () => {
    const broken = (edit: (text: string) => string) => parseCompose(edit(read('docker-compose.yml')));
    const latest = broken((t) => t.replace(/image: grafana\/grafana:\S+/, 'image: grafana/grafana:latest'));
    expect(Object.values(latest.services).some((s) => s.image?.endsWith(':latest'))).toBe(true);

    const mount = broken((t) => t.replace('./infra/prometheus/rules:', './infra/prometheus/rulez:'));
    expect(
      Object.values(mount.services)
        .flatMap((s) => bindsOf(s))
        .some((b) => !exists(b.host)),
    ).toBe(true);

    const [name, engine] = churnServices[0] as [string, Service];
    const { names } = await variablesRead(builtFrom(commandOf(engine)?.[1] as string, image));
    expect(names.has('KAFKA_BROKERS')).toBe(true);
    expect(names.has('KAFKA_BROKER')).toBe(false);

    expect(() => builtFrom(`services/${name}/dist/mian.js`, image)).toThrow(/does not exist/);
    expect(() => builtFrom('services/engine/dist/main.js', { ...image, closure: new Set() })).toThrow(/not among/);
    expect(() => builtFrom('services/engine/dist/main.js', { ...image, copied: () => false })).toThrow(/reach/);
    expect(dockerIgnore('**/dist\n')('services/engine/dist/main.js')).toBe(true);
    expect(dockerIgnore('**/dist\n!services/engine/dist\n')('services/engine/dist/main.js')).toBe(false);
  });
});
