// Builds the native relay (native/relay.c → native/build/relay.node), which relays streamed
// upstream answers unless ATELIER_NATIVE_RELAY=off. Run by this package's `install` script: it
// never fails an install. Elsewhere than Linux (it uses epoll and eventfd), or without a C compiler
// or Node's headers, it says so in one line and the JavaScript relay is used.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const source = path.join(root, 'native/relay.c');
const output = path.join(root, 'native/build/relay.node');

/** Where Node's headers (node_api.h, uv.h) may be: beside the binary, npm's nodedir, node-gyp's cache. */
function headerDirs() {
  const version = process.versions.node;
  const prefix = path.dirname(path.dirname(process.execPath));
  const nodedir = process.env.npm_config_nodedir;
  return [
    ...(nodedir ? [path.join(nodedir, 'include/node')] : []),
    path.join(prefix, 'include/node'),
    path.join(os.homedir(), '.cache/node-gyp', version, 'include/node'),
    path.join(os.homedir(), 'Library/Caches/node-gyp', version, 'include/node'),
    '/usr/include/node',
    '/usr/local/include/node',
  ];
}

try {
  if (process.platform !== 'linux') throw new Error(`it is built on Linux only, not ${process.platform}`);
  const headers = headerDirs().find((dir) => existsSync(path.join(dir, 'node_api.h')));
  if (!headers) throw new Error("Node's headers (node_api.h) were not found");
  mkdirSync(path.dirname(output), { recursive: true });
  const compiler = process.env.CC || 'cc';
  // Node's own symbols are resolved when the addon is loaded into it.
  execFileSync(
    compiler,
    ['-O2', '-shared', '-fPIC', '-pthread', '-Wall', `-I${headers}`, '-o', output, source],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  console.log(`atelier: built the native relay (${path.relative(process.cwd(), output)})`);
} catch (error) {
  const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
  console.log(`atelier: the native relay was not built (${reason}); the JavaScript relay is used`);
}
