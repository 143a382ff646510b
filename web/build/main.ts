// `npm run build:web`: write dist/web/index.html (or --out DIR). Bad flags and build failures print
// `bpfspec: ...` and exit 2.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildPage, WebBuildError } from './build.js';

/** The project root from dist/web/build/main.js (three levels up) or web/build/main.ts (two). */
export function projectRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return here.includes(`${join('dist', 'web', 'build')}`) ? resolve(here, '..', '..', '..') : resolve(here, '..', '..');
}

async function main(argv: string[]): Promise<number> {
  const root = projectRoot();
  let outDir = join(root, 'dist', 'web');
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out' && argv[i + 1] !== undefined) outDir = resolve(argv[++i]!);
    else {
      process.stderr.write(`bpfspec: build:web: unknown argument '${argv[i]}' (usage: build:web [--out DIR])\n`);
      return 2;
    }
  }
  try {
    const r = await buildPage({ root, outDir });
    const modelFiles = r.inputs.filter((x) => x.path.startsWith('model/')).length;
    process.stdout.write(
      `${r.html}: ${(r.htmlBytes / 1024).toFixed(0)} KiB (script ${(r.scriptBytes / 1024).toFixed(0)} KiB from ${r.inputs.length} files, ${modelFiles} of them in model/; data ${(r.dataBytes / 1024).toFixed(0)} KiB: ${r.entries} corpus entries, ${r.citations.entries.length} citations) in ${r.ms} ms\n` +
        `open it in a browser, or serve it with: npx bpfspec web\n`,
    );
    return 0;
  } catch (e) {
    if (e instanceof WebBuildError) {
      process.stderr.write(`bpfspec: build:web: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
