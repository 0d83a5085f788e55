import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import type { EnvShape } from './config.ts';
import type { Topology } from './topology.ts';

/** The policy file shipped with the repository (`policies/default.json`). */
export const DEFAULT_POLICY_FILE = fileURLToPath(new URL('../../../policies/default.json', import.meta.url));

/** The exit code of a command-line mistake (an unknown option, a missing or bad value). */
export const EXIT_USAGE = 2;

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
 * A command-line mistake node:util's parseArgs reports, as a short phrase naming the
 * option or argument: `unknown option --x`, `unexpected argument x`, `--in needs a value`.
 * Any other error: the first line of its message.
 */
export function argumentProblem(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown } | null)?.code;
  const quoted = /'([^']+)'/.exec(message)?.[1] ?? '';
  const option = quoted.replace(/ <value>$/, '').replace(/^-\w, /, '');
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown option ${quoted}`;
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') return `unexpected argument ${quoted}`;
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    if (message.includes('argument missing')) return `${option} needs a value`;
    if (message.includes('does not take an argument')) return `${option} takes no value`;
    if (message.includes('is ambiguous'))
      return `${option} needs a value (write ${option}=VALUE for one that starts with -)`;
  }
  return (message.split('\n')[0] ?? '').split('. To specify')[0] ?? '';
}

/** How one variable of an environment shape is described: required, its values, its default. */
function describeVariable(schema: z.ZodType): string {
  const empty = schema.safeParse(undefined);
  const parts: string[] = [];
  // A required variable's error message says what it holds ("is required: URL of ...").
  const why = empty.success ? undefined : /^is required: (.*)$/.exec(empty.error.issues[0]?.message ?? '')?.[1];
  if (!empty.success) parts.push(why ? `required: ${why}` : 'required');
  let json: { enum?: unknown[]; type?: string; minimum?: number; maximum?: number; format?: string } = {};
  try {
    json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as typeof json;
  } catch {
    // A schema JSON Schema cannot express: no values to show.
  }
  if (json.enum) parts.push(`one of ${json.enum.join(', ')}`);
  else if (json.type === 'integer' && json.minimum !== undefined && json.maximum !== undefined)
    parts.push(`a whole number from ${json.minimum} to ${json.maximum}`);
  else if (why === undefined && json.format === 'uri') parts.push('a URL');
  else if (why === undefined && json.format === 'date-time') parts.push('an ISO date and time');
  if (empty.success) {
    const value = empty.data as unknown;
    if (value === undefined) parts.push('optional');
    else parts.push(`default ${Array.isArray(value) ? value.join(',') : String(value)}`);
  }
  return parts.join('; ');
}

/**
 * The environment variables of a config shape (see config.ts), one a line: each with
 * whether it is required, the values it takes and its default, all read off the schema.
 */
export function environmentUsage(shape: EnvShape): string {
  const width = Math.max(...Object.keys(shape).map((name) => name.length)) + 2;
  return Object.entries(shape)
    .map(([name, schema]) => `  ${name.padEnd(width)}${describeVariable(schema)}\n`)
    .join('');
}

/** What a program's `--help` says. */
export interface MainHelp {
  /** How it is run; by default `node <the script as it was started>`. */
  readonly command?: string;
  /** What it does. */
  readonly about: string;
  /** The environment it reads, under a heading each (more than one when it runs in modes). */
  readonly environment: Readonly<Record<string, EnvShape>>;
  /** Its topologies, for the topics it reads and writes (asked for only when the usage is printed). */
  readonly topologies?: () => readonly Topology[];
}

/** `text` broken into lines of at most `width` characters at spaces. */
function wrap(text: string, width = 92): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  return `${[...lines, line].join('\n')}\n`;
}

function topicLines(title: string, topics: Iterable<string>): string {
  const sorted = [...new Set(topics)].sort();
  return sorted.length === 0 ? '' : `\n${title}:\n${sorted.map((t) => `  ${t}\n`).join('')}`;
}

/** A program's usage: what it does, the topics of its topologies and the environment it reads. */
export function mainUsage(help: MainHelp): string {
  const command = help.command ?? `node ${relative(process.cwd(), process.argv[1] ?? 'main.js')}`;
  let text = wrap(`${command} [--help]: ${help.about}`);
  if (help.topologies) {
    const topologies = help.topologies();
    const internal = new Set(topologies.flatMap((t) => (t.internalTopics ?? []).map((i) => i.topic)));
    text += topicLines(
      'Reads',
      topologies.flatMap((t) => t.inputs).filter((t) => !internal.has(t)),
    );
    text += topicLines(
      'Writes',
      topologies.flatMap((t) => t.outputs).filter((t) => !internal.has(t)),
    );
    text += topicLines('Internal topics', internal);
  }
  for (const [heading, shape] of Object.entries(help.environment)) text += `\n${heading}:\n${environmentUsage(shape)}`;
  return text;
}

/**
 * The command line of a program that takes no arguments: `--help` (or `-h`) prints its
 * usage and exits 0; anything else is one line naming it and exit code 2.
 */
export function noArguments(name: string, help: MainHelp, argv: readonly string[] = process.argv.slice(2)): void {
  commandLine(
    name,
    () => mainUsage(help),
    () =>
      parseArgs({
        args: [...argv],
        options: { help: { type: 'boolean', short: 'h' } },
        strict: true,
        allowPositionals: false,
      }),
  );
}

/**
 * Runs a service's main: any error during start-up is printed with the service's name
 * and the process exits 1, instead of an unhandled rejection. With `help`, the program
 * takes no arguments but `--help` (see {@link noArguments}).
 */
export function runMain(service: string, main: () => Promise<unknown>, help?: MainHelp): void {
  if (help) noArguments(service, help);
  main().catch((err: unknown) => {
    process.stderr.write(`${service}: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}

/**
 * A script's command line, with `--help`: parses `parse` (node:util parseArgs with
 * `help` among its options); `--help` prints `usage` and exits 0, and an option it does
 * not know, or a value it cannot take, is one line naming it and exit code 2. A usage
 * given as a function is built only when `--help` asks for it.
 */
export function commandLine<T extends { values: { help?: boolean | undefined } }>(
  command: string,
  usage: string | (() => string),
  parse: () => T,
): T {
  let parsed: T;
  try {
    parsed = parse();
  } catch (err) {
    process.stderr.write(`${command}: ${argumentProblem(err)} (see --help)\n`);
    process.exit(EXIT_USAGE);
  }
  if (parsed.values.help === true) {
    process.stdout.write(typeof usage === 'function' ? usage() : usage);
    process.exit(0);
  }
  return parsed;
}
