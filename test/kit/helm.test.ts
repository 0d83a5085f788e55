/**
 * The Helm chart (deploy/helm/churn-pipeline): `helm lint --strict` passes, and the
 * manifests `helm template` renders for each deployment shape run what the build
 * produces, probe the service's own endpoints, give it longer than its shutdown bound,
 * take credentials only from Secrets, set only variables the services read, and select
 * their own pods and Services. Expectations come from the sources: the shapes of
 * packages/cli/src/topologies.ts, each service's config schema, the Dockerfile's build.
 */

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, normalize, relative } from 'node:path';
import { SHAPES, type Shape, servicesOf } from '@churn/cli';
import { loadPolicy } from '@churn/domain';
import { DEFAULT_POLICY_FILE, kafkaServiceEnv, readJsonFile } from '@churn/runtime';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import type { z } from 'zod';
import { read, root } from './repo.ts';
import { findTool } from './tools.ts';

const CHART = join(root, 'deploy/helm/churn-pipeline');
const RELEASE = 'churn';
const NAMESPACE = 'churn-ns';
const helm = findTool('helm');

// ---------------------------------------------------------------- manifests

type Labels = Record<string, string>;
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; fieldRef?: { fieldPath: string } };
}
interface Probe {
  httpGet?: { path: string; port: number | string };
}
interface Container {
  name: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  ports?: { name?: string; containerPort: number }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    capabilities?: { drop?: string[] };
  };
  volumeMounts?: { name: string; mountPath: string }[];
}
interface Volume {
  name: string;
  secret?: { secretName: string; items?: { key: string; path: string }[] };
  emptyDir?: Record<string, unknown>;
}
interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Labels };
}
interface Deployment extends Manifest {
  spec: {
    replicas: number;
    selector: { matchLabels: Labels };
    template: {
      metadata: { labels: Labels };
      spec: {
        terminationGracePeriodSeconds: number;
        securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; seccompProfile?: { type: string } };
        automountServiceAccountToken?: boolean;
        containers: Container[];
        volumes?: Volume[];
      };
    };
  };
}
interface Service extends Manifest {
  spec: {
    selector: Labels;
    publishNotReadyAddresses?: boolean;
    ports: { name: string; port: number; targetPort: number | string }[];
  };
}
interface Selecting extends Manifest {
  spec: {
    selector: { matchLabels: Labels };
    namespaceSelector?: { matchNames?: string[] };
    endpoints?: {
      port: string;
      path?: string;
      relabelings?: { targetLabel?: string; replacement?: string; action?: string }[];
    }[];
    groups?: RuleGroup[];
  };
}
interface RuleGroup {
  name: string;
  rules: { alert?: string; record?: string; expr: string }[];
}
interface Secret extends Manifest {
  data?: Record<string, string>;
}

interface Rendered {
  text: string;
  docs: Manifest[];
  of<T extends Manifest>(kind: string): T[];
}

/** Runs helm; the exit status and both outputs. */
function runHelm(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(helm as string, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `helm template` with the given flags; every document parsed (duplicate keys are errors). */
function render(...args: string[]): Rendered {
  const r = runHelm(['template', RELEASE, CHART, '--namespace', NAMESPACE, ...args]);
  if (r.status !== 0) throw new Error(`helm template ${args.join(' ')} failed:\n${r.stderr}`);
  const docs: Manifest[] = [];
  for (const doc of parseAllDocuments(r.stdout)) {
    if (doc.errors.length > 0) throw new Error(`rendered YAML is invalid: ${doc.errors[0]?.message}`);
    const value = doc.toJS() as Manifest | null;
    if (value) docs.push(value);
  }
  return { text: r.stdout, docs, of: <T extends Manifest>(kind: string) => docs.filter((d) => d.kind === kind) as T[] };
}

/** `helm template` that must fail; its error output. */
function renderError(...args: string[]): string {
  const r = runHelm(['template', RELEASE, CHART, '--namespace', NAMESPACE, ...args]);
  expect(r.status, `helm template ${args.join(' ')} rendered, but should have failed`).not.toBe(0);
  return r.stderr;
}

/** A values file in a temporary folder; the `--values` flag for it. */
function valuesFile(values: unknown): string[] {
  const file = join(mkdtempSync(join(tmpdir(), 'churn-helm-')), 'values.yaml');
  writeFileSync(file, stringifyYaml(values));
  return ['--values', file];
}

const shapeFlags = (shape: Shape) => ['--set', `shape=${shape}`];
const matches = (selector: Labels, labels: Labels) =>
  Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);
const envOf = (c: Container) => new Map((c.env ?? []).map((e) => [e.name, e]));
const only = <T>(items: T[], what: string): T => {
  expect(items, what).toHaveLength(1);
  return items[0] as T;
};

/** The container's port a probe or a Service names, as a number. */
function portNumber(c: Container, port: number | string): number | undefined {
  if (typeof port === 'number') return port;
  return c.ports?.find((p) => p.name === port)?.containerPort;
}

// ---------------------------------------------------------------- the sources of truth

/** Each deployable's config schema, from its package (services/<dir>/package.json's name). */
async function configShapes(): Promise<Map<string, Record<string, z.ZodType>>> {
  const shapes = new Map<string, Record<string, z.ZodType>>();
  for (const dir of new Set(SHAPES.flatMap((s) => servicesOf(policy, s).map((d) => d.dir)))) {
    const pkg = JSON.parse(read(join('services', dir, 'package.json'))) as { name: string };
    const mod = (await import(pkg.name)) as { configShape: Record<string, z.ZodType> };
    shapes.set(dir, mod.configShape);
  }
  return shapes;
}

const policy = loadPolicy(readJsonFile(DEFAULT_POLICY_FILE));
const kafkaVariables = Object.keys(kafkaServiceEnv);
/** The variables that carry a credential: the config's user names and passwords. */
const CREDENTIALS = kafkaVariables.filter((name) => /_(USERNAME|PASSWORD)$/.test(name));
const defaultOf = (name: keyof typeof kafkaServiceEnv) => kafkaServiceEnv[name].parse(undefined) as number;

interface TsProject {
  dir: string;
  outDir: string;
  rootDir: string;
  references: string[];
}

function tsProject(dir: string): TsProject {
  const config = JSON.parse(read(join(dir, 'tsconfig.json'))) as {
    compilerOptions?: { outDir?: string; rootDir?: string };
    references?: { path: string }[];
  };
  return {
    dir,
    outDir: config.compilerOptions?.outDir ?? '.',
    rootDir: config.compilerOptions?.rootDir ?? '.',
    references: (config.references ?? []).map((r) => normalize(join(dir, r.path))),
  };
}

/**
 * The .js files the image's build writes: the projects `tsc -b` builds in the Dockerfile
 * and everything they reference, each source file of rootDir compiled into outDir.
 * Returns a function that tells whether a path (relative to /app) is one of them.
 */
function builtByImage(): (path: string) => boolean {
  const dockerfile = read('Dockerfile');
  const built = [...dockerfile.matchAll(/tsc -b ([^\s&\\]+)/g)].map((m) => normalize(m[1] as string));
  expect(built.length, 'the Dockerfile builds with tsc -b').toBeGreaterThan(0);
  const projects = new Map<string, TsProject>();
  const visit = (dir: string) => {
    if (projects.has(dir)) return;
    const project = tsProject(dir);
    projects.set(dir, project);
    for (const ref of project.references) visit(ref);
  };
  for (const dir of built) visit(dir);
  return (path: string) =>
    [...projects.values()].some((p) => {
      const out = normalize(join(p.dir, p.outDir));
      const rel = relative(out, normalize(path));
      if (rel.startsWith('..') || !rel.endsWith('.js')) return false;
      return existsSync(join(root, p.dir, p.rootDir, rel.replace(/\.js$/, '.ts')));
    });
}

/** The script a container runs: the argument of `node` that is a .js file. */
function scriptOf(c: Container): string {
  const argv = [...(c.command ?? []), ...(c.args ?? [])];
  expect(argv[0], `${c.name} runs node`).toBe('node');
  return only(
    argv.slice(1).filter((a) => !a.startsWith('-')),
    `${c.name}: one script`,
  );
}

/** services/<dir>/dist/main.js → <dir>. */
const serviceDirOf = (script: string) => script.split('/')[1] as string;

// ---------------------------------------------------------------- the tests

const SECRET = {
  kafkaUser: 'kafka-user-7f3a',
  kafkaPassword: 'kafka-pw-Qz81-never-in-plain-text',
  registryUser: 'registry-user-5c2e',
  registryPassword: 'registry-pw-Lm42-never-in-plain-text',
  ca: '-----BEGIN CERTIFICATE-----\nMIIBchart-test-ca\n-----END CERTIFICATE-----\n',
};

/** Values that turn on every variable the chart can set: SASL_SSL, a CA, registry auth, a policy. */
function fullValues(shape: Shape, envProperties: string[]): unknown {
  const env: Record<string, string | number> = {};
  for (const name of envProperties) {
    const fallback = kafkaServiceEnv[name as keyof typeof kafkaServiceEnv]?.safeParse(undefined);
    env[name] = fallback?.success && fallback.data !== undefined ? (fallback.data as string | number) : 'set-by-test';
  }
  return {
    shape,
    kafka: {
      securityProtocol: 'SASL_SSL',
      sasl: { username: SECRET.kafkaUser, password: SECRET.kafkaPassword },
      tls: { ca: SECRET.ca },
    },
    schemaRegistry: { auth: { username: SECRET.registryUser, password: SECRET.registryPassword } },
    policy: { json: readFileSync(DEFAULT_POLICY_FILE, 'utf8') },
    env,
  };
}

describe.skipIf(!helm)('Helm chart deploy/helm/churn-pipeline', () => {
  let shapes: Map<string, Record<string, z.ZodType>>;
  let envProperties: string[];
  beforeAll(async () => {
    shapes = await configShapes();
    const schema = JSON.parse(readFileSync(join(CHART, 'values.schema.json'), 'utf8')) as {
      $defs: { env: { properties: Record<string, unknown> } };
    };
    envProperties = Object.keys(schema.$defs.env.properties);
  });

  it('passes helm lint --strict for each shape and with every option on', () => {
    for (const shape of SHAPES) {
      for (const args of [shapeFlags(shape), valuesFile(fullValues(shape, envProperties))]) {
        const r = runHelm(['lint', '--strict', CHART, ...args]);
        expect(r.status, `helm lint --strict ${args.join(' ')}:\n${r.stdout}${r.stderr}`).toBe(0);
      }
    }
  });

  it("renders for the default values the default shape's services", () => {
    const commands = render()
      .of<Deployment>('Deployment')
      .map((d) => serviceDirOf(scriptOf(d.spec.template.spec.containers[0] as Container)));
    expect(commands).toEqual(servicesOf(policy).map((d) => d.dir));
  });

  it.each(SHAPES)('shape %s: one Deployment per service, each running a file the image build produces', (shape) => {
    const isBuilt = builtByImage();
    const deployments = render(...shapeFlags(shape)).of<Deployment>('Deployment');
    const scripts = deployments.map((d) => scriptOf(only(d.spec.template.spec.containers, d.metadata.name)));
    for (const script of scripts) expect(isBuilt(script), `${script} is built by the Dockerfile's tsc -b`).toBe(true);
    expect(scripts.map(serviceDirOf).sort()).toEqual(
      servicesOf(policy, shape)
        .map((d) => d.dir)
        .sort(),
    );
  });

  it.each(SHAPES)('shape %s: liveness on /healthz, readiness and start-up on /readyz, on METRICS_PORT', (shape) => {
    for (const port of [undefined, 9999]) {
      const flags = [...shapeFlags(shape), ...(port ? ['--set', `metrics.port=${port}`] : [])];
      for (const d of render(...flags).of<Deployment>('Deployment')) {
        const c = d.spec.template.spec.containers[0] as Container;
        const metricsPort = Number(envOf(c).get('METRICS_PORT')?.value ?? defaultOf('METRICS_PORT'));
        expect(metricsPort).toBe(port ?? defaultOf('METRICS_PORT'));
        const probes: [Probe | undefined, string][] = [
          [c.livenessProbe, '/healthz'],
          [c.readinessProbe, '/readyz'],
          [c.startupProbe, '/readyz'],
        ];
        for (const [probe, path] of probes) {
          expect(probe?.httpGet?.path, d.metadata.name).toBe(path);
          expect(portNumber(c, probe?.httpGet?.port ?? ''), `${d.metadata.name} ${path}`).toBe(metricsPort);
        }
      }
    }
  });

  it('gives every pod a grace period longer than SHUTDOWN_TIMEOUT_MS, whatever its value', () => {
    const schema = kafkaServiceEnv.SHUTDOWN_TIMEOUT_MS;
    const bounds = schema.toJSONSchema() as { minimum: number; maximum: number };
    const values: (number | null)[] = [null, bounds.minimum, bounds.minimum + 1, defaultOf('SHUTDOWN_TIMEOUT_MS')];
    values.push(bounds.maximum, 30_999, 59_001, 1 + Math.floor(Math.random() * bounds.maximum));
    for (const shape of SHAPES) {
      for (const ms of values) {
        const rendered = render(...shapeFlags(shape), '--set', `env.SHUTDOWN_TIMEOUT_MS=${ms ?? 'null'}`);
        for (const d of rendered.of<Deployment>('Deployment')) {
          const c = d.spec.template.spec.containers[0] as Container;
          // Unset, the service takes its schema's default.
          const effective = Number(schema.parse(envOf(c).get('SHUTDOWN_TIMEOUT_MS')?.value));
          expect(effective).toBe(ms ?? defaultOf('SHUTDOWN_TIMEOUT_MS'));
          expect(d.spec.template.spec.terminationGracePeriodSeconds, `${d.metadata.name} at ${ms} ms`).toBeGreaterThan(
            effective / 1000,
          );
        }
      }
    }
    // One Deployment's own value counts for that Deployment.
    const own = render(...shapeFlags('services'), '--set', 'services.decisions.env.SHUTDOWN_TIMEOUT_MS=90000');
    const decisions = only(
      own
        .of<Deployment>('Deployment')
        .filter((d) => d.metadata.labels?.['app.kubernetes.io/component'] === 'decisions'),
      'the decisions Deployment',
    );
    expect(decisions.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(90);
  });

  it('refuses a grace period not longer than SHUTDOWN_TIMEOUT_MS, and keeps a longer one', () => {
    const ms = defaultOf('SHUTDOWN_TIMEOUT_MS');
    for (const grace of [ms / 1000, Math.floor(ms / 2000)]) {
      expect(renderError('--set', `terminationGracePeriodSeconds=${grace}`)).toMatch(/SHUTDOWN_TIMEOUT_MS/);
    }
    expect(
      renderError(
        ...shapeFlags('services'),
        '--set',
        'services.signals.env.SHUTDOWN_TIMEOUT_MS=60000',
        '--set',
        'terminationGracePeriodSeconds=60',
      ),
    ).toMatch(/signals/);
    const longer = ms / 1000 + 1;
    for (const d of render('--set', `terminationGracePeriodSeconds=${longer}`).of<Deployment>('Deployment')) {
      expect(d.spec.template.spec.terminationGracePeriodSeconds).toBe(longer);
    }
  });

  it.each(SHAPES)('shape %s: credentials come only from Secrets, never as text in a Deployment', (shape) => {
    const rendered = render(...valuesFile(fullValues(shape, envProperties)));
    const secrets = new Map(rendered.of<Secret>('Secret').map((s) => [s.metadata.name, s]));
    const given: Record<string, string> = {
      KAFKA_SASL_USERNAME: SECRET.kafkaUser,
      KAFKA_SASL_PASSWORD: SECRET.kafkaPassword,
      SCHEMA_REGISTRY_USERNAME: SECRET.registryUser,
      SCHEMA_REGISTRY_PASSWORD: SECRET.registryPassword,
    };
    expect(Object.keys(given).sort()).toEqual([...CREDENTIALS].sort());
    for (const d of rendered.of<Deployment>('Deployment')) {
      const c = d.spec.template.spec.containers[0] as Container;
      const env = envOf(c);
      for (const name of CREDENTIALS) {
        const v = env.get(name);
        expect(v?.value, `${d.metadata.name} ${name} has no value of its own`).toBeUndefined();
        const ref = v?.valueFrom?.secretKeyRef;
        expect(ref, `${d.metadata.name} ${name} from a secretKeyRef`).toBeDefined();
        const data = secrets.get(ref?.name ?? '')?.data?.[ref?.key ?? ''];
        expect(Buffer.from(data ?? '', 'base64').toString(), `${name} in Secret ${ref?.name}`).toBe(given[name]);
      }
      // The CA file is a key of a Secret, mounted where KAFKA_SSL_CA_FILE points.
      const caFile = env.get('KAFKA_SSL_CA_FILE')?.value ?? '';
      const mount = c.volumeMounts?.find((m) => caFile.startsWith(`${m.mountPath}/`));
      const volume = d.spec.template.spec.volumes?.find((v) => v.name === mount?.name);
      const item = volume?.secret?.items?.find((i) => `${mount?.mountPath}/${i.path}` === caFile);
      const pem = secrets.get(volume?.secret?.secretName ?? '')?.data?.[item?.key ?? ''];
      expect(Buffer.from(pem ?? '', 'base64').toString()).toBe(SECRET.ca);
    }
    // A changed credential changes the pod template, so the pods restart with it.
    const changed = render(
      ...valuesFile(fullValues(shape, envProperties)),
      '--set',
      'kafka.sasl.password=another-password',
    ).of<Deployment>('Deployment');
    rendered.of<Deployment>('Deployment').forEach((d, i) => {
      expect(changed[i]?.spec.template, d.metadata.name).not.toEqual(d.spec.template);
    });
    // No secret in plain text (or merely base64) anywhere but in the Secret's data.
    const others = rendered.docs.filter((d) => d.kind !== 'Secret');
    const text = stringifyYaml(others);
    for (const value of Object.values(SECRET)) {
      expect(text).not.toContain(value.trim());
      expect(text).not.toContain(Buffer.from(value).toString('base64'));
    }
  });

  it('takes credentials from existing Secrets by name and key, and makes no Secret then', () => {
    const rendered = render(
      '--set',
      'kafka.securityProtocol=SASL_PLAINTEXT',
      '--set',
      'kafka.sasl.existingSecret=kafka-creds',
      '--set',
      'kafka.sasl.passwordKey=pw',
      '--set',
      'schemaRegistry.auth.existingSecret=registry-creds',
    );
    expect(rendered.of('Secret')).toEqual([]);
    const env = envOf(
      only(rendered.of<Deployment>('Deployment'), 'engine').spec.template.spec.containers[0] as Container,
    );
    expect(env.get('KAFKA_SASL_PASSWORD')?.valueFrom?.secretKeyRef).toEqual({ name: 'kafka-creds', key: 'pw' });
    expect(env.get('KAFKA_SASL_USERNAME')?.valueFrom?.secretKeyRef).toEqual({ name: 'kafka-creds', key: 'username' });
    expect(env.get('SCHEMA_REGISTRY_PASSWORD')?.valueFrom?.secretKeyRef?.name).toBe('registry-creds');
  });

  it('refuses credentials as plain env values, and a SASL protocol without credentials', () => {
    for (const name of CREDENTIALS) {
      expect(renderError('--set', `env.${name}=oops`)).toMatch(name);
      expect(renderError(...shapeFlags('services'), '--set', `services.decisions.env.${name}=oops`)).toMatch(name);
    }
    expect(renderError('--set', 'env.NOT_A_SETTING=1')).toMatch(/NOT_A_SETTING/);
    expect(renderError('--set', 'replicas=2')).toMatch(/replicas/);
    expect(renderError('--set', 'kafka.securityProtocol=SASL_SSL')).toMatch(/credentials/);
    expect(renderError('--set', 'schemaRegistry.auth.username=u')).toMatch(/both/);
  });

  it.each(SHAPES)('shape %s: sets only variables the service reads, and lets every one be set', (shape) => {
    const rendered = render(...valuesFile(fullValues(shape, envProperties)));
    const set = new Set<string>();
    for (const d of rendered.of<Deployment>('Deployment')) {
      const c = d.spec.template.spec.containers[0] as Container;
      const known = Object.keys(shapes.get(serviceDirOf(scriptOf(c))) ?? {});
      expect(known.length).toBeGreaterThan(0);
      for (const e of c.env ?? []) {
        expect(known, `${d.metadata.name} sets ${e.name}`).toContain(e.name);
        set.add(e.name);
      }
      // What the chart sets parses as the service parses its environment.
      const values = Object.fromEntries(
        (c.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value]),
      );
      for (const [name, value] of Object.entries(values)) {
        expect(shapes.get(serviceDirOf(scriptOf(c)))?.[name]?.safeParse(value).success, `${name}=${value}`).toBe(true);
      }
    }
    for (const name of envProperties) expect(kafkaVariables, `values.schema.json env.${name}`).toContain(name);
    const settable = new Set([...set, ...envProperties]);
    for (const dir of servicesOf(policy, shape).map((d) => d.dir)) {
      for (const name of Object.keys(shapes.get(dir) ?? {}))
        expect([...settable], `${dir} reads ${name}`).toContain(name);
    }
  });

  it.each(SHAPES)("shape %s: each PodDisruptionBudget and Service selects its Deployment's pods only", (shape) => {
    const rendered = render(...shapeFlags(shape));
    const deployments = rendered.of<Deployment>('Deployment');
    const pdbs = rendered.of<Selecting>('PodDisruptionBudget');
    const services = rendered.of<Service>('Service');
    expect(pdbs).toHaveLength(deployments.length);
    for (const d of deployments) {
      const pods = d.spec.template.metadata.labels;
      expect(matches(d.spec.selector.matchLabels, pods), `${d.metadata.name} selects its pods`).toBe(true);
      const others = deployments.filter((o) => o !== d).map((o) => o.spec.template.metadata.labels);
      const pdb = only(
        pdbs.filter((p) => matches(p.spec.selector.matchLabels, pods)),
        `the PodDisruptionBudget of ${d.metadata.name}`,
      );
      for (const o of others) expect(matches(pdb.spec.selector.matchLabels, o)).toBe(false);
      const service = only(
        services.filter((s) => matches(s.spec.selector, pods)),
        `the Service of ${d.metadata.name}`,
      );
      for (const o of others) expect(matches(service.spec.selector, o)).toBe(false);
      const c = d.spec.template.spec.containers[0] as Container;
      const metricsPort = Number(envOf(c).get('METRICS_PORT')?.value);
      for (const p of service.spec.ports) expect(portNumber(c, p.targetPort)).toBe(metricsPort);
    }
  });

  it.each(SHAPES)('shape %s: the ServiceMonitor selects every metrics Service, where the API exists', (shape) => {
    const withApi = ['--api-versions', 'monitoring.coreos.com/v1/ServiceMonitor'];
    const rendered = render(...shapeFlags(shape), ...withApi);
    const monitor = only(rendered.of<Selecting>('ServiceMonitor'), 'one ServiceMonitor');
    expect(monitor.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(monitor.spec.namespaceSelector?.matchNames).toContain(NAMESPACE);
    const services = rendered.of<Service>('Service');
    expect(services.length).toBe(rendered.of('Deployment').length);
    // The job name of infra/prometheus/prometheus.yml, so that its rules and queries work here too.
    const prometheus = parseYaml(read('infra/prometheus/prometheus.yml')) as {
      scrape_configs: { job_name: string }[];
    };
    const jobs = (monitor.spec.endpoints ?? []).map(
      (e) => e.relabelings?.find((r) => r.targetLabel === 'job' && (r.action ?? 'replace') === 'replace')?.replacement,
    );
    expect(jobs.length).toBeGreaterThan(0);
    for (const job of jobs) expect(prometheus.scrape_configs.map((c) => c.job_name)).toContain(job);
    for (const s of services) {
      expect(matches(monitor.spec.selector.matchLabels, s.metadata.labels ?? {}), s.metadata.name).toBe(true);
      // An instance restoring state is not ready; it is scraped all the same.
      expect(s.spec.publishNotReadyAddresses, s.metadata.name).toBe(true);
      for (const e of monitor.spec.endpoints ?? []) {
        expect(s.spec.ports.map((p) => p.name)).toContain(e.port);
        expect(e.path ?? '/metrics').toBe('/metrics');
      }
    }
    // auto: none where the cluster lacks the API; a value decides either way.
    expect(render(...shapeFlags(shape)).of('ServiceMonitor')).toEqual([]);
    expect(render(...shapeFlags(shape), '--set', 'serviceMonitor.enabled=true').of('ServiceMonitor')).toHaveLength(1);
    expect(
      render(...shapeFlags(shape), ...withApi, '--set', 'serviceMonitor.enabled=false').of('ServiceMonitor'),
    ).toEqual([]);
  });

  it("puts the rules files passed in into one PrometheusRule, the repository's self-contained", () => {
    const withApi = ['--api-versions', 'monitoring.coreos.com/v1/PrometheusRule'];
    const groupsOf = (file: string) => (parseYaml(readFileSync(file, 'utf8')) as { groups: RuleGroup[] }).groups;
    const ruleFrom = (files: Record<string, string>, ...more: string[]) =>
      render(
        ...Object.entries(files).flatMap(([name, file]) => ['--set-file', `prometheusRule.files.${name}=${file}`]),
        ...more,
      ).of<Selecting>('PrometheusRule');

    // Two files: their groups, unchanged, in the order of the names.
    const dir = mkdtempSync(join(tmpdir(), 'churn-rules-'));
    const sample = { b: join(dir, 'b.yml'), a: join(dir, 'a.yml') };
    writeFileSync(
      sample.a,
      stringifyYaml({ groups: [{ name: 'recorded', rules: [{ record: 'job:up:sum', expr: 'sum by (job) (up)' }] }] }),
    );
    writeFileSync(
      sample.b,
      stringifyYaml({
        groups: [
          { name: 'down', rules: [{ alert: 'ChurnDown', expr: 'job:up:sum == 0', for: '1m' }] },
          { name: 'other', rules: [{ alert: 'Other', expr: 'vector(1)' }] },
        ],
      }),
    );
    const rule = only(ruleFrom(sample, ...withApi), 'a PrometheusRule');
    expect(rule.spec.groups).toEqual([...groupsOf(sample.a), ...groupsOf(sample.b)]);
    expect(ruleFrom(sample)).toEqual([]);
    expect(
      renderError(
        '--set-file',
        `prometheusRule.files.x=${sample.a}`,
        '--set-file',
        `prometheusRule.files.y=${sample.a}`,
        ...withApi,
      ),
    ).toMatch(/recorded/);
    expect(renderError('--set', 'prometheusRule.enabled=true')).toMatch(/prometheusRule.files/);

    // The repository's rules, as the chart's README passes them: every file, and every
    // recorded series an expression uses is recorded in the same PrometheusRule.
    const rulesDir = join(root, 'infra/prometheus/rules');
    const files = Object.fromEntries(
      readdirSync(rulesDir)
        .filter((f) => f.endsWith('.yml'))
        .map((f) => [f.replace(/\.yml$/, ''), join(rulesDir, f)]),
    );
    expect(Object.keys(files).length).toBeGreaterThan(0);
    const readme = readFileSync(join(CHART, 'README.md'), 'utf8');
    for (const [name, file] of Object.entries(files)) {
      expect(readme).toContain(`--set-file prometheusRule.files.${name}=${relative(root, file)}`);
    }
    const repo = only(ruleFrom(files, ...withApi), 'the repository rules');
    const rules = (repo.spec.groups ?? []).flatMap((g) => g.rules);
    const recorded = new Set(rules.flatMap((r) => (r.record ? [r.record] : [])));
    for (const r of rules) {
      for (const series of r.expr.match(/(?<![\w:])[a-zA-Z_][\w]*:[\w:]+/g) ?? []) {
        expect(recorded, `${r.alert ?? r.record} uses ${series}`).toContain(series);
      }
    }
  });

  it.each(SHAPES)('shape %s: fails when a Deployment has more replicas than the topics have partitions', (shape) => {
    const partitions = 4;
    for (const { dir } of servicesOf(policy, shape)) {
      const key = shape === 'engine' ? 'engine' : `services.${dir}`;
      const at = (n: number) => [
        ...shapeFlags(shape),
        '--set',
        `kafka.partitions=${partitions}`,
        '--set',
        `${key}.replicas=${n}`,
      ];
      expect(renderError(...at(partitions + 1))).toMatch(/more than kafka\.partitions \(4\).*partition/);
      const d = render(...at(partitions))
        .of<Deployment>('Deployment')
        .find((x) => serviceDirOf(scriptOf(x.spec.template.spec.containers[0] as Container)) === dir);
      expect(d?.spec.replicas).toBe(partitions);
    }
    // The services create missing topics with that count.
    for (const d of render(...shapeFlags(shape), '--set', `kafka.partitions=${partitions}`).of<Deployment>(
      'Deployment',
    )) {
      expect(envOf(d.spec.template.spec.containers[0] as Container).get('TOPIC_PARTITIONS')?.value).toBe(
        String(partitions),
      );
    }
  });

  it('names each instance by its pod and runs it non-root on a read-only root filesystem', () => {
    for (const shape of SHAPES) {
      for (const d of render(...shapeFlags(shape)).of<Deployment>('Deployment')) {
        const pod = d.spec.template.spec;
        const c = pod.containers[0] as Container;
        expect(envOf(c).get('INSTANCE_ID')?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.name');
        expect(pod.securityContext?.runAsNonRoot).toBe(true);
        expect(pod.securityContext?.runAsUser).toBeGreaterThan(0);
        expect(pod.securityContext?.seccompProfile?.type).toBe('RuntimeDefault');
        expect(pod.automountServiceAccountToken).toBe(false);
        expect(c.securityContext?.readOnlyRootFilesystem).toBe(true);
        expect(c.securityContext?.allowPrivilegeEscalation).toBe(false);
        expect(c.securityContext?.capabilities?.drop).toEqual(['ALL']);
        // The one writable place: /tmp, an emptyDir.
        const tmp = c.volumeMounts?.find((m) => m.mountPath === '/tmp');
        expect(pod.volumes?.find((v) => v.name === tmp?.name)?.emptyDir).toBeDefined();
        expect(c.resources?.requests?.memory).toBeDefined();
        expect(c.resources?.limits?.memory).toBeDefined();
      }
    }
  });

  it("gives the default heap room for the benchmark's working set", () => {
    const values = parseYaml(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as {
      resources: { limits: { memory: string } };
      heapPercent: number;
    };
    const mib = (q: string) => {
      const m = /^(\d+)(Mi|Gi)$/.exec(q);
      expect(m, `memory ${q} in Mi or Gi`).not.toBeNull();
      return Number(m?.[1]) * (m?.[2] === 'Gi' ? 1024 : 1);
    };
    const heapMiB = (mib(values.resources.limits.memory) * values.heapPercent) / 100;
    const bench = JSON.parse(read('bench/results/2026-11-30-engine.json')) as {
      results: Record<string, { heapUsedMB?: number[] }>;
    };
    const used = Object.values(bench.results).flatMap((r) => r.heapUsedMB ?? []);
    expect(used.length).toBeGreaterThan(0);
    expect(heapMiB).toBeGreaterThan((2 * Math.max(...used) * 1e6) / 2 ** 20);
    const d = only(render().of<Deployment>('Deployment'), 'engine');
    expect((d.spec.template.spec.containers[0] as Container).command).toContain(
      `--max-old-space-size-percentage=${values.heapPercent}`,
    );
  });
});

// ---------------------------------------------------------------- the sizing table

describe('docs/performance.md, Sizing', () => {
  const doc = read('docs/performance.md');
  const section = /\n## Sizing\n([\s\S]*?)(?=\n## |$)/.exec(doc)?.[1] ?? '';
  const bench = JSON.parse(read('bench/results/2026-11-30-engine.json')) as {
    results: {
      scaleOut: {
        partitions: number;
        instances: Record<string, { eventsPerSecond: { median: number }; eventsPerCpuSecond: { median: number } }>;
      };
      state: {
        heapBytesPerCustomer: { median: number };
        restoreSeconds: { median: number };
        heapByService: Record<string, { heapBytes: number }>;
      };
    } & Record<string, { heapUsedMB?: number[] }>;
  };
  /** The table rows of the section, as cells; numbers written with spaces between thousands. */
  const rows = section
    .split('\n')
    .filter((line) => line.startsWith('|') && !line.startsWith('|---'))
    .map((line) =>
      line
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim()),
    );
  const num = (cell: string | undefined) => Number((cell ?? '').replace(/(\d) (?=\d{3}\b)/g, '$1'));

  it('quotes the scale-out figures of the results file, per instance too', () => {
    const { scaleOut } = bench.results;
    const measured = rows.filter((r) => num(r[0]) === scaleOut.partitions);
    expect(measured.map((r) => r[1])).toEqual(Object.keys(scaleOut.instances));
    for (const r of measured) {
      const figures = scaleOut.instances[r[1] as string];
      expect(num(r[2])).toBe(figures?.eventsPerSecond.median);
      expect(num(r[3])).toBe(Math.round((figures?.eventsPerSecond.median ?? 0) / Number(r[1])));
      expect(num(r[4])).toBe(figures?.eventsPerCpuSecond.median);
    }
  });

  it("quotes the state's heap per customer, and per million customers", () => {
    const { state } = bench.results;
    const quoted = rows.filter((r) => / GB/.test(r[2] ?? ''));
    expect(quoted.length).toBe(Object.keys(state.heapByService).length);
    for (const r of quoted) {
      const name = /^(?:the )?([\w-]+)/.exec(r[0] ?? '')?.[1] ?? '';
      const bytes =
        name === 'engine' ? state.heapBytesPerCustomer.median : state.heapByService[`churn-${name}`]?.heapBytes;
      expect(num(r[1]), r[0]).toBe(bytes);
      expect(r[2]?.startsWith(`${((bytes ?? 0) / 1000).toFixed(2)} GB`), r[2]).toBe(true);
    }
    expect(section).toContain(`${state.restoreSeconds.median.toFixed(1)} s per\nmillion customers`);
    const used = Object.values(bench.results).flatMap((r) => (r as { heapUsedMB?: number[] }).heapUsedMB ?? []);
    expect(section).toContain(`${Math.min(...used)} to ${Math.max(...used)} MB of heap`);
  });

  it("states the chart's defaults as they are", () => {
    const values = parseYaml(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as {
      heapPercent: number;
      startupProbe: { periodSeconds: number; failureThreshold: number };
      resources: { requests: { cpu: string } };
    };
    expect(section).toContain(`${values.heapPercent}% of the container's memory limit`);
    expect(section).toContain(`/ ${values.heapPercent / 100}`);
    expect(section).toContain(
      `start-up probe allows ${(values.startupProbe.periodSeconds * values.startupProbe.failureThreshold) / 60} minutes`,
    );
    expect(values.resources.requests.cpu).toBe('1');
    expect(section).toContain('The chart requests one core per instance');
  });
});
