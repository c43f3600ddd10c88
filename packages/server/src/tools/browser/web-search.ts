// Web search behind one interface, for the browsing capability: SearXNG (self-hosted, no key),
// Brave Search, Bing Web Search and Tavily. The provider is chosen by the administrator
// (ATELIER_SEARCH_PROVIDER), so its host is trusted even when it is on a private network, as a
// SearXNG next to Atelier usually is; the pages found are fetched under the ordinary policy.

import { AtelierError } from '../../errors.js';
import { createOutboundPolicy, type OutboundPolicy } from '../outbound/outbound-policy.js';
import { bodyText } from '../outbound/response-text.js';
import { type HostResolver, safeFetch } from '../outbound/safe-fetch.js';

export interface WebSearchResult {
  readonly title: string;
  readonly url: string;
  readonly snippet: string;
}

export interface SearchProvider {
  /** For messages: "SearXNG", "Brave Search", … */
  readonly name: string;
  search(query: string, options?: { count?: number; signal?: AbortSignal }): Promise<WebSearchResult[]>;
}

export type SearchProviderConfig =
  | { readonly type: 'searxng'; readonly baseUrl: string }
  | { readonly type: 'brave' | 'bing' | 'tavily'; readonly apiKey: string; readonly baseUrl?: string };

export const SEARCH_PROVIDER_TYPES = ['searxng', 'brave', 'bing', 'tavily'] as const;

const DEFAULT_BASE_URLS = {
  brave: 'https://api.search.brave.com/res/v1/web/search',
  bing: 'https://api.bing.microsoft.com/v7.0/search',
  tavily: 'https://api.tavily.com/search',
} as const;

const SEARCH_TIMEOUT_MS = 15_000;
const MAX_SEARCH_RESPONSE_BYTES = 2 * 1024 * 1024;

/** The search failed upstream; the message is safe to show to the model and the user. */
export class WebSearchError extends AtelierError {
  constructor(message: string, cause?: unknown) {
    super(message, { status: 502, type: 'api_error', code: 'web_search_failed', cause });
  }
}

export function createSearchProvider(
  config: SearchProviderConfig,
  { resolve }: { resolve?: HostResolver } = {},
): SearchProvider {
  const endpoint = new URL(
    config.type === 'searxng' ? config.baseUrl : (config.baseUrl ?? DEFAULT_BASE_URLS[config.type]),
  );
  const policy: OutboundPolicy = createOutboundPolicy({ allow: [endpoint.hostname.replace(/^\[|\]$/g, '')] });
  const name = { searxng: 'SearXNG', brave: 'Brave Search', bing: 'Bing Web Search', tavily: 'Tavily' }[
    config.type
  ];

  const call = async (request: {
    url: URL;
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    signal?: AbortSignal | undefined;
  }): Promise<unknown> => {
    let response: Awaited<ReturnType<typeof safeFetch>>;
    try {
      response = await safeFetch({
        ...request,
        policy,
        maxBytes: MAX_SEARCH_RESPONSE_BYTES,
        timeoutMs: SEARCH_TIMEOUT_MS,
        ...(resolve ? { resolve } : {}),
        sensitiveHeaders: ['x-subscription-token', 'ocp-apim-subscription-key'],
      });
    } catch (error) {
      throw new WebSearchError(`${name} could not be reached: ${(error as Error).message}`, error);
    }
    const text = bodyText(response.body, response.contentType);
    if (response.status < 200 || response.status >= 300) {
      throw new WebSearchError(
        `${name} answered ${response.status}: ${text.slice(0, 200).trim() || response.statusText}`,
      );
    }
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new WebSearchError(
        `${name} did not answer with JSON${response.truncated ? ' (the answer was too long)' : ''}.`,
        error,
      );
    }
  };

  return {
    name,
    async search(query, { count = 8, signal } = {}) {
      const wanted = Math.max(1, Math.min(20, Math.floor(count)));
      let results: WebSearchResult[];
      switch (config.type) {
        case 'searxng': {
          const url = new URL(
            endpoint.pathname.endsWith('/search') ? endpoint : new URL('search', withSlash(endpoint)),
          );
          url.searchParams.set('q', query);
          url.searchParams.set('format', 'json');
          const data = (await call({ url, headers: { accept: 'application/json' }, signal })) as {
            results?: { title?: unknown; url?: unknown; content?: unknown }[];
          };
          results = (data.results ?? []).map((item) => result(item.title, item.url, item.content));
          break;
        }
        case 'brave': {
          const url = new URL(endpoint);
          url.searchParams.set('q', query);
          url.searchParams.set('count', String(wanted));
          const data = (await call({
            url,
            headers: { accept: 'application/json', 'x-subscription-token': config.apiKey },
            signal,
          })) as { web?: { results?: { title?: unknown; url?: unknown; description?: unknown }[] } };
          results = (data.web?.results ?? []).map((item) => result(item.title, item.url, item.description));
          break;
        }
        case 'bing': {
          const url = new URL(endpoint);
          url.searchParams.set('q', query);
          url.searchParams.set('count', String(wanted));
          url.searchParams.set('textFormat', 'Raw');
          const data = (await call({
            url,
            headers: { accept: 'application/json', 'ocp-apim-subscription-key': config.apiKey },
            signal,
          })) as { webPages?: { value?: { name?: unknown; url?: unknown; snippet?: unknown }[] } };
          results = (data.webPages?.value ?? []).map((item) => result(item.name, item.url, item.snippet));
          break;
        }
        case 'tavily': {
          const data = (await call({
            url: endpoint,
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${config.apiKey}` },
            body: JSON.stringify({ query, max_results: wanted, search_depth: 'basic' }),
            signal,
          })) as { results?: { title?: unknown; url?: unknown; content?: unknown }[] };
          results = (data.results ?? []).map((item) => result(item.title, item.url, item.content));
          break;
        }
      }
      return results.filter((item) => /^https?:\/\//i.test(item.url)).slice(0, wanted);
    },
  };
}

function result(title: unknown, url: unknown, snippet: unknown): WebSearchResult {
  const text = (value: unknown) => (typeof value === 'string' ? value.replace(/\s+/g, ' ').trim() : '');
  return { title: text(title) || text(url), url: text(url), snippet: text(snippet).slice(0, 500) };
}

function withSlash(url: URL): URL {
  const copy = new URL(url);
  if (!copy.pathname.endsWith('/')) copy.pathname += '/';
  return copy;
}
