// The composition root's part for the built-in tools of Assistants runs (as start-models.ts is
// for models): file_search over the retrieval engine, and code_interpreter in this machine's
// sandbox when it can run one. Without a sandbox the server still starts, says why in the log,
// and runs that need code_interpreter fail clearly (a forced one is a 400).
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Config, SearchProviderSetting } from './config/config.js';
import { createCodeInterpreterTool } from './platform/code-interpreter-tool.js';
import { createFileSearchTool } from './platform/file-search-tool.js';
import type { FilesService } from './platform/files-service.js';
import type { VectorStoresService } from './platform/vector-stores-service.js';
import type { Repositories } from './storage/repositories.js';
import { createBrowser } from './tools/browser/browser.js';
import { createSearchProvider, type SearchProviderConfig } from './tools/browser/web-search.js';
import { type CodeInterpreter, createCodeInterpreter } from './tools/code-interpreter/code-interpreter.js';
import { codeInterpreterOptionsFromConfig } from './tools/code-interpreter/code-interpreter-config.js';
import { createOutboundPolicy } from './tools/outbound/outbound-policy.js';
import type { Retrieval } from './tools/retrieval/search-vector-stores.js';
import type { BuiltInTools } from './tools/spec.js';

export interface StartedTools {
  readonly tools: BuiltInTools;
  /** The sandbox, when this machine runs one. */
  readonly interpreter: CodeInterpreter | undefined;
  /** Ends every sandbox session and removes what the tools keep on disk. */
  close(): Promise<void>;
}

export async function startBuiltInTools({
  config,
  repositories,
  files,
  vectorStores,
  retrieval,
  log,
  createInterpreter = createCodeInterpreter,
}: {
  config: Config;
  repositories: Repositories;
  files: FilesService;
  vectorStores: VectorStoresService;
  retrieval: Retrieval;
  log: Logger;
  /** Makes the sandbox (tests pass one that fails, as on a machine that cannot run it). */
  createInterpreter?: typeof createCodeInterpreter;
}): Promise<StartedTools> {
  const fileSearch = createFileSearchTool({ repositories, vectorStores, retrieval });
  const browser = createBrowser({
    ...(config.searchProvider
      ? { search: createSearchProvider(searchProviderConfig(config.searchProvider)) }
      : {}),
    policy: createOutboundPolicy({ allow: config.outboundAllow }),
  });
  log.info(
    config.searchProvider
      ? `browsing: web search through ${browser.searchProvider}`
      : 'browsing: pages can be opened; web search is off (set ATELIER_SEARCH_PROVIDER)',
  );
  let interpreter: CodeInterpreter | undefined;
  try {
    interpreter = await createInterpreter({
      ...codeInterpreterOptionsFromConfig(config),
      log: (level, message) => log[level](message),
    });
  } catch (error) {
    log.warn(`code interpreter is off: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!interpreter) {
    return { tools: { fileSearch, browser }, interpreter: undefined, close: async () => {} };
  }
  const sandbox = interpreter;
  try {
    const codeInterpreter = await createCodeInterpreterTool({
      interpreter: sandbox,
      repositories,
      files,
      cacheDir: await mkdtemp(path.join(tmpdir(), 'atelier-sandbox-files-')),
    });
    const packages = Object.entries(sandbox.sandbox.packages)
      .filter(([, version]) => version !== null)
      .map(([name]) => name);
    log.info(
      `code interpreter: Python ${sandbox.sandbox.python} with ${packages.join(', ') || 'no data packages'}`,
    );
    return {
      tools: { fileSearch, codeInterpreter, browser },
      interpreter: sandbox,
      close: async () => {
        await sandbox.close();
        await codeInterpreter.close();
      },
    };
  } catch (error) {
    await sandbox.close();
    throw error;
  }
}

function searchProviderConfig(setting: SearchProviderSetting): SearchProviderConfig {
  return setting.type === 'searxng'
    ? { type: 'searxng', baseUrl: setting.base_url }
    : {
        type: setting.type,
        apiKey: setting.api_key,
        ...(setting.base_url ? { baseUrl: setting.base_url } : {}),
      };
}
