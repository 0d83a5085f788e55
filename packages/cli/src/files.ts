/**
 * The checks churnctl's commands make on the files they are given before they start
 * work: an input can be read, an output can be written. Each throws an Error naming the
 * file (churnctl prints it and exits 1).
 */
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

/** Throws unless `path` is a file this process may read. */
export function checkReadable(path: string): void {
  try {
    accessSync(path, constants.R_OK);
  } catch (err) {
    throw new Error(`cannot read ${path}: ${(err as Error).message}`);
  }
  if (statSync(path).isDirectory()) throw new Error(`cannot read ${path}: it is a directory`);
}

/** Throws when `path` cannot be written: its directory does not exist, or it is a directory. */
export function checkWritable(path: string): void {
  const dir = dirname(path);
  if (!existsSync(dir)) throw new Error(`cannot write ${path}: the directory ${dir} does not exist`);
  if (existsSync(path) && statSync(path).isDirectory()) throw new Error(`cannot write ${path}: it is a directory`);
}
