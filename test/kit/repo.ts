/** The repository the kit's tests read, and a file of it as text. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The repository's root folder. */
export const root = join(import.meta.dirname, '..', '..');

/** The text of a file, by its path from the repository's root. */
export const read = (path: string) => readFileSync(join(root, path), 'utf8');
