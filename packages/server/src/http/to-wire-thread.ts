// Domain → wire for threads.
import type { ThreadV1, ThreadV2 } from '@atelier/protocol';
import type { Thread } from '../storage/repositories/threads-repository.js';
import type { AssistantsVersion } from './assistants-version.js';
import { toWireToolResources } from './to-wire-assistant-options.js';

export function toWireThread(thread: Thread, version: AssistantsVersion): ThreadV1 | ThreadV2 {
  const base = {
    id: thread.id,
    object: 'thread' as const,
    created_at: thread.createdAt,
    metadata: { ...thread.metadata },
  };
  return version === 'v1' ? base : { ...base, tool_resources: toWireToolResources(thread.toolResources) };
}
