// `/v1/threads` in both generations: v2 adds `tool_resources`.
import { z } from 'zod';
import { type ToolResources, ToolResourcesCreateParam, ToolResourcesUpdateParam } from './assistant-tools.js';
import { MessageCreateParamsV1, MessageCreateParamsV2 } from './messages.js';
import { Metadata } from './metadata.js';

export const ThreadCreateParamsV1 = z.strictObject({
  messages: z.array(MessageCreateParamsV1).optional(),
  metadata: Metadata.nullish(),
});
export type ThreadCreateParamsV1 = z.infer<typeof ThreadCreateParamsV1>;

export const ThreadCreateParamsV2 = z.strictObject({
  messages: z.array(MessageCreateParamsV2).optional(),
  tool_resources: ToolResourcesCreateParam.nullish(),
  metadata: Metadata.nullish(),
});
export type ThreadCreateParamsV2 = z.infer<typeof ThreadCreateParamsV2>;

export const ThreadUpdateParamsV1 = z.strictObject({ metadata: Metadata.nullish() });
export type ThreadUpdateParamsV1 = z.infer<typeof ThreadUpdateParamsV1>;

export const ThreadUpdateParamsV2 = z.strictObject({
  tool_resources: ToolResourcesUpdateParam.nullish(),
  metadata: Metadata.nullish(),
});
export type ThreadUpdateParamsV2 = z.infer<typeof ThreadUpdateParamsV2>;

export interface ThreadV1 {
  id: string;
  object: 'thread';
  created_at: number;
  metadata: Record<string, string>;
}

export interface ThreadV2 extends ThreadV1 {
  tool_resources: ToolResources;
}

export interface ThreadDeleted {
  id: string;
  object: 'thread.deleted';
  deleted: true;
}
