/**
 * The command-line tools the kit's tests run: promtool (Debian's prometheus package), the
 * promtool of the Prometheus docker-compose.yml runs (built by infra/tools/promtool.sh,
 * path in CHURN_PROMTOOL_COMPOSE) and helm (built by infra/tools/helm.sh, path in
 * CHURN_HELM). A test that needs a missing tool is skipped on a developer's machine and
 * fails under CI=true, where .ci/run installs all three.
 */

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const inCi = process.env.CI === 'true';

function onPath(name: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

type Tool = 'promtool' | 'promtool-compose' | 'helm';

const SOURCES: Record<Tool, { env: string; path?: string; install: string }> = {
  promtool: { env: 'CHURN_PROMTOOL', path: 'promtool', install: 'apt-get install prometheus' },
  // The promtool of the Prometheus version docker-compose.yml runs; never taken from PATH.
  'promtool-compose': { env: 'CHURN_PROMTOOL_COMPOSE', install: 'bash infra/tools/promtool.sh' },
  helm: { env: 'CHURN_HELM', path: 'helm', install: 'bash infra/tools/helm.sh' },
};

/** The tool's path, or undefined when it is missing (and we are not in CI). */
export function findTool(name: Tool): string | undefined {
  const source = SOURCES[name];
  const fromEnv = process.env[source.env];
  const found = fromEnv && existsSync(fromEnv) ? fromEnv : source.path ? onPath(source.path) : undefined;
  if (!found && inCi) throw new Error(`${name} is not installed; .ci/run installs it (${source.install})`);
  return found;
}
