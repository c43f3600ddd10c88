// Builds the web app into packages/web/dist, as `npm install` and `npm start` do: the Vite build,
// the service worker (with the list of shell files it precaches), the PNG icons of the PWA
// manifest, and .br/.gz copies of every text file so the server sends them without compressing.
// Skips everything when the inputs have not changed since the last build (--force rebuilds).
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { build } from 'vite';
import { drawIconPng } from './draw-icon.js';

const webRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(webRoot, 'dist');
const stampFile = path.join(dist, '.build-stamp');
// The lock file too: a dependency upgrade changes the output.
const INPUTS = [
  'src',
  'public',
  'scripts',
  'index.html',
  'vite.config.ts',
  'package.json',
  '../../package-lock.json',
];
const COMPRESSIBLE = /\.(js|css|html|svg|webmanifest|json|ttf|txt)$/;

const ICONS = [
  { file: 'icons/icon-192.png', size: 192, maskable: false },
  { file: 'icons/icon-512.png', size: 512, maskable: false },
  { file: 'icons/maskable-512.png', size: 512, maskable: true },
  // iOS rounds the corners itself and shows transparency as black: a full square.
  { file: 'icons/apple-touch-icon.png', size: 180, maskable: true },
] as const;

interface ManifestChunk {
  readonly file: string;
  readonly css?: readonly string[];
  readonly imports?: readonly string[];
  readonly isEntry?: boolean;
}

async function main(): Promise<void> {
  // Vite keeps a NODE_ENV it finds (a test runner sets "test"): this build is always production.
  process.env['NODE_ENV'] = 'production';
  const force = process.argv.includes('--force');
  const fingerprint = await inputsFingerprint();
  if (!force && (await readFile(stampFile, 'utf8').catch(() => '')) === fingerprint) {
    console.log('web app: up to date (packages/web/dist)');
    return;
  }
  const started = Date.now();
  await build({ root: webRoot, configFile: path.join(webRoot, 'vite.config.ts'), logLevel: 'warn' });

  for (const icon of ICONS) {
    await mkdir(path.dirname(path.join(dist, icon.file)), { recursive: true });
    await writeFile(path.join(dist, icon.file), drawIconPng(icon));
  }

  const shell = await shellFiles();
  await build({
    root: webRoot,
    configFile: false,
    logLevel: 'warn',
    publicDir: false,
    define: {
      __PRECACHE__: JSON.stringify(shell),
      __BUILD_VERSION__: JSON.stringify(
        createHash('sha256').update(shell.join('\n')).digest('hex').slice(0, 12),
      ),
    },
    build: {
      outDir: dist,
      emptyOutDir: false,
      target: 'es2022',
      lib: {
        entry: path.join(webRoot, 'src/sw/service-worker.ts'),
        formats: ['iife'],
        name: 'atelierServiceWorker',
        fileName: () => 'sw.js',
      },
    },
  });

  const compressed = await compressAll(dist);
  await writeFile(stampFile, fingerprint);
  console.log(
    `web app: built packages/web/dist in ${((Date.now() - started) / 1000).toFixed(1)} s (${compressed} files pre-compressed)`,
  );
}

/** What the service worker stores at install: the page, its entry script and styles, and icons. */
async function shellFiles(): Promise<string[]> {
  const manifest = JSON.parse(await readFile(path.join(dist, '.vite/manifest.json'), 'utf8')) as Record<
    string,
    ManifestChunk
  >;
  const files = new Set<string>([
    '/',
    '/manifest.webmanifest',
    '/favicon.svg',
    ...ICONS.map((icon) => `/${icon.file}`),
  ]);
  const visit = (key: string) => {
    const chunk = manifest[key];
    if (!chunk || files.has(`/${chunk.file}`)) return;
    files.add(`/${chunk.file}`);
    for (const css of chunk.css ?? []) files.add(`/${css}`);
    // Static imports only: lazily loaded chunks (math, highlighting) are cached when first used.
    for (const imported of chunk.imports ?? []) visit(imported);
  };
  for (const [key, chunk] of Object.entries(manifest)) if (chunk.isEntry) visit(key);
  return [...files];
}

async function compressAll(directory: string): Promise<number> {
  let count = 0;
  for (const entry of await readdir(directory, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !COMPRESSIBLE.test(entry.name)) continue;
    const file = path.join(entry.parentPath, entry.name);
    if (path.relative(directory, file).startsWith('.')) continue;
    const content = await readFile(file);
    // Below a packet or so, compression saves nothing worth a header.
    if (content.length < 1024) continue;
    await writeFile(`${file}.gz`, gzipSync(content, { level: 9 }));
    await writeFile(
      `${file}.br`,
      brotliCompressSync(content, {
        params: {
          [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
          [constants.BROTLI_PARAM_SIZE_HINT]: content.length,
        },
      }),
    );
    count++;
  }
  return count;
}

/** A hash of every input file's path and content (mtimes change on checkout; content does not). */
async function inputsFingerprint(): Promise<string> {
  const hash = createHash('sha256');
  const add = async (relative: string) => {
    const absolute = path.join(webRoot, relative);
    const info = await stat(absolute).catch(() => null);
    if (!info) return;
    if (info.isDirectory()) {
      const names = (await readdir(absolute)).sort();
      for (const name of names) await add(path.join(relative, name));
    } else {
      hash
        .update(relative)
        .update('\0')
        .update(await readFile(absolute))
        .update('\0');
    }
  };
  for (const input of INPUTS) await add(input);
  return hash.digest('hex');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
