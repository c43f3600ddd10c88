// Keeps the dependency directions of DESIGN.md checkable: http → platform, engine → inference,
// tools, storage specs; adapters are chosen only in main.ts.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const serverSrc = import.meta.dirname;
const protocolSrc = path.resolve(serverSrc, '../../protocol/src');

function sourceFiles(root: string): string[] {
  return readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts') && !file.includes('test-support'))
    .map((file) => path.join(root, file));
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [
    ...text.matchAll(/(?:import|export)[^'"]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/g),
  ];
  return specifiers.map((match) => {
    const specifier = (match[1] ?? match[2])!;
    return specifier.startsWith('.')
      ? path.relative(serverSrc, path.resolve(path.dirname(file), specifier))
      : specifier;
  });
}

const files = sourceFiles(serverSrc).map((file) => ({
  file: path.relative(serverSrc, file),
  imports: importsOf(file),
}));

function violations(from: (file: string) => boolean, forbidden: (target: string) => boolean): string[] {
  return files
    .filter(({ file }) => from(file))
    .flatMap(({ file, imports }) => imports.filter(forbidden).map((target) => `${file} → ${target}`));
}

describe('dependency directions', () => {
  it('finds the source files (the rule is not vacuous)', () => {
    expect(files.length).toBeGreaterThan(20);
    expect(files.some(({ file }) => file.startsWith('engine/'))).toBe(true);
  });

  it('nothing imports http/ or main.ts except the composition root and the CLI', () => {
    expect(
      violations(
        (file) => !file.startsWith('http/') && file !== 'main.ts',
        (target) => target.startsWith('http/'),
      ),
    ).toEqual([]);
    expect(
      violations(
        (file) => !file.startsWith('cli/'),
        (target) => target === 'main.js',
      ),
    ).toEqual([]);
  });

  it('the engine never imports an adapter, the platform or http', () => {
    expect(
      violations(
        (file) => file.startsWith('engine/'),
        (target) =>
          /^inference\/(llama-cpp|openai-compatible)\//.test(target) ||
          target.startsWith('storage/database') ||
          target.startsWith('platform/') ||
          target.startsWith('http/') ||
          target.startsWith('node-llama-cpp') ||
          target.startsWith('fastify'),
      ),
    ).toEqual([]);
  });

  it('http and the platform never import an adapter (main.ts chooses them)', () => {
    expect(
      violations(
        (file) => /^(http|platform)\//.test(file),
        (target) =>
          /^inference\/(llama-cpp|openai-compatible)\//.test(target) || target.startsWith('node-llama-cpp'),
      ),
    ).toEqual([]);
  });

  it('inference, tools and storage never reach up into engine, platform or http', () => {
    expect(
      violations(
        (file) => /^(inference|tools|storage)\//.test(file),
        (target) => /^(engine|platform|http|cli)\//.test(target),
      ),
    ).toEqual([]);
  });

  it('the protocol package depends on zod only', () => {
    const external = sourceFiles(protocolSrc)
      .flatMap((file) =>
        [...readFileSync(file, 'utf8').matchAll(/from\s+'([^']+)'/g)].map((match) => match[1]!),
      )
      .filter((specifier) => !specifier.startsWith('.'));
    expect(new Set(external)).toEqual(new Set(['zod']));
  });
});
