#!/usr/bin/env node
// The `bpfspec` command. A committed file with its run bit, so that `npx bpfspec` works after any build
// (dist/ is generated and tsc does not keep modes); the command itself is dist/cli/main.js.
const main = new URL('../dist/cli/main.js', import.meta.url);
try {
  await import(main.href);
} catch (e) {
  // Only the missing build itself gets this message; anything else is the command's own error.
  if (e && e.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes(main.pathname)) {
    process.stderr.write('bpfspec: not built yet: run `npm run build` in the repository first\n');
    process.exitCode = 2;
  } else {
    throw e;
  }
}
