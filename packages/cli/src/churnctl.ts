/**
 * churnctl: the command-line tool of the churn pipeline (the commands: commands.ts).
 */
import { churnctl } from './commands.ts';

churnctl(process.argv.slice(2)).then((code) => process.exit(code));
