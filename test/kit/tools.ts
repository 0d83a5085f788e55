/**
 * The command-line tools the kit's tests run: promtool (Debian's prometheus package) and
 * helm (built by infra/tools/helm.sh, path in CHURN_HELM). A test that needs a missing
 * tool is skipped on a developer's machine and fails under CI=true, where .ci/run
 * installs both.
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

/** The tool's path, or undefined when it is missing (and we are not in CI). */
export function findTool(name: 'promtool' | 'helm'): string | undefined {
  const fromEnv = name === 'helm' ? process.env.CHURN_HELM : process.env.CHURN_PROMTOOL;
  const found = fromEnv && existsSync(fromEnv) ? fromEnv : onPath(name);
  if (!found && inCi) {
    throw new Error(
      `${name} is not installed; .ci/run installs it (${name === 'helm' ? 'bash infra/tools/helm.sh' : 'apt-get install prometheus'})`,
    );
  }
  return found;
}
