// Run by test/oracle/harden-live.test.ts inside a bpf_jit_harden window of its own (the machine's
// sysctl set, the shared harden lock held by `flock`, this process's helpers on a private lock):
// prints, as one JSON line, the sysctl it saw, the JIT facts liveJitFacts read, and what imageFacts
// makes of the probe program's image loaded without the harden-0 window (null: not recognised).
import { JitImageOracle } from '../../oracle/kernel/jitimage.js';
import { imageFacts, liveJitFacts, PROBE_PROGRAM } from '../../oracle/kernel/jitfacts.js';
import { readJitHarden } from '../../oracle/kernel/sockopt.js';

const o = await JitImageOracle.open();
if ('missing' in o) {
  process.stdout.write(`${JSON.stringify({ missing: o.missing })}\n`);
} else {
  try {
    const harden = readJitHarden();
    const facts = await liveJitFacts(o);
    const [plain] = await o.load([PROBE_PROGRAM], true, false);
    const plainShape = plain!.loaded ? imageFacts(plain!.image!) : { errno: plain!.errno };
    process.stdout.write(`${JSON.stringify({ harden, facts, plainShape, after: readJitHarden() })}\n`);
  } finally {
    await o.close();
  }
}
