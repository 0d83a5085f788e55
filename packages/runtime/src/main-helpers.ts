import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The policy file shipped with the repository (`policies/default.json`). */
export const DEFAULT_POLICY_FILE = fileURLToPath(new URL('../../../policies/default.json', import.meta.url));

/** Reads a JSON file; the error names the file. */
export function readJsonFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${path}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new Error(`${path} is not valid JSON: ${(err as Error).message}`);
  }
}

/**
 * Runs a service's main: any error during start-up is printed with the service's name
 * and the process exits 1, instead of an unhandled rejection.
 */
export function runMain(service: string, main: () => Promise<unknown>): void {
  main().catch((err: unknown) => {
    process.stderr.write(`${service}: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}

/**
 * A script's command line, with `--help`: parses `parse` (node:util parseArgs with
 * `help` among its options); `--help` prints `usage` and exits 0, and an option it does
 * not know, or a value it cannot take, is one line naming it and exit code 2.
 */
export function commandLine<T extends { values: { help?: boolean | undefined } }>(
  command: string,
  usage: string,
  parse: () => T,
): T {
  let parsed: T;
  try {
    parsed = parse();
  } catch (err) {
    process.stderr.write(
      `${command}: ${(err as Error).message.split('\n')[0]?.split('. To specify')[0]} (see --help)\n`,
    );
    process.exit(2);
  }
  if (parsed.values.help === true) {
    process.stdout.write(usage);
    process.exit(0);
  }
  return parsed;
}
