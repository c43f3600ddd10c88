// Wire → domain for vector-store requests: chunking strategies and attributes.
import type { ChunkingStrategyParam, Attributes as WireAttributes } from '@atelier/protocol';
import type { Attributes, Chunking } from '../storage/repositories/vector-store-files-repository.js';

/** `auto` (or none) → undefined: the service's default, 800/400 like OpenAI's auto. */
export function fromWireChunking(strategy: ChunkingStrategyParam | undefined): Chunking | undefined {
  if (strategy?.type !== 'static') return undefined;
  return {
    maxChunkSizeTokens: strategy.static.max_chunk_size_tokens,
    chunkOverlapTokens: strategy.static.chunk_overlap_tokens,
  };
}

export function fromWireAttributes(attributes: WireAttributes | null | undefined): Attributes | undefined {
  return attributes === undefined ? undefined : (attributes ?? {});
}
