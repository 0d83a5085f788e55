#!/usr/bin/env node
// The built CLI (`npm install` builds it; `npm run build` after changes).
import('../dist/churnctl.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND') {
    process.stderr.write('churnctl: not built yet; run `npm run build` in the repository root\n');
    process.exit(1);
  }
  throw err;
});
