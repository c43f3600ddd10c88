// Keeps V8's young generation at its starting size while the server starts. Loading some 1,200
// modules looks to V8 like a workload whose young objects survive, so it grows the young
// generation step by step to its full 2 × 16 MiB; those pages then stay resident in an idle
// server until V8's memory reducer gives them back, some 15 s later. Measured (`npm run
// bench:gateway`, idle RSS without local models): about 15 MiB less at rest, for a few more
// young-generation collections at start (a few milliseconds). Once the server listens, V8's
// usual growth applies again, so a loaded server keeps its large young generation and its
// throughput.
import v8 from 'node:v8';

/** V8's own growth factor (V8 11, Node 20), restored once the server started. */
const DEFAULT_GROWTH_FACTOR = 2;

export function holdYoungGeneration(): { release: () => void } {
  // The operator's own V8 heap settings win.
  const settings = `${process.execArgv.join(' ')} ${process.env['NODE_OPTIONS'] ?? ''}`;
  if (/semi[-_]space/.test(settings)) return { release: () => {} };
  v8.setFlagsFromString('--semi-space-growth-factor=1');
  let released = false;
  return {
    release: () => {
      if (released) return;
      released = true;
      v8.setFlagsFromString(`--semi-space-growth-factor=${DEFAULT_GROWTH_FACTOR}`);
    },
  };
}
