// Everything the playground asks of the server, through the same /v1 Assistants v2 API any SDK
// uses, signed in by the session cookie + CSRF header. Runs are streamed (`stream: true`) and
// handed to the caller event by event.
import { ApiError, api, authHeaders, SIGNED_OUT_EVENT, toApiError } from '../../api/http';
import type { ListPage, Model } from '../../api/types';
import { readStreamEvents } from './assistant-stream';
import type {
  Assistant,
  AssistantParams,
  Attachment,
  FileObject,
  Message,
  Run,
  RunStep,
  StreamEvent,
  Thread,
  ToolChoice,
  VectorStore,
  VectorStoreFile,
} from './playground-types';
import type { RunView, ThreadState } from './thread-state';

const path = (...parts: readonly string[]) => parts.map(encodeURIComponent).join('/');

/** Models that can chat (the ones an assistant may use). */
export async function listModels(): Promise<readonly Model[]> {
  const page = await api<ListPage<Model>>('/v1/models');
  // GPTs are listed too (`atelier.provider: "gpt"`): they have their own pages, not this menu.
  return page.data.filter(
    (model) => model.atelier?.capabilities?.chat !== false && model.atelier?.provider !== 'gpt',
  );
}

/** Every assistant of the workspace, newest first (following `has_more`). */
export async function listAssistants(): Promise<readonly Assistant[]> {
  return listAll<Assistant>('/v1/assistants', { order: 'desc' });
}

export const getAssistant = (assistantId: string) => api<Assistant>(`/v1/assistants/${path(assistantId)}`);

export const createAssistant = (params: AssistantParams) =>
  api<Assistant>('/v1/assistants', { method: 'POST', body: params });

export const updateAssistant = (assistantId: string, params: AssistantParams) =>
  api<Assistant>(`/v1/assistants/${path(assistantId)}`, { method: 'POST', body: params });

export const deleteAssistant = (assistantId: string) =>
  api<{ deleted: boolean }>(`/v1/assistants/${path(assistantId)}`, { method: 'DELETE' });

export const getFile = (fileId: string) => api<FileObject>(`/v1/files/${path(fileId)}`);

/** Uploads a file for assistants (`purpose: assistants`) as multipart, as the SDKs do. */
export async function uploadFile(file: File): Promise<FileObject> {
  const form = new FormData();
  form.append('purpose', 'assistants');
  form.append('file', file, file.name);
  const response = await fetch('/v1/files', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { accept: 'application/json', ...authHeaders() },
    body: form,
  });
  if (!response.ok) throw await signedOutAware(response);
  return (await response.json()) as FileObject;
}

/** A file's bytes (images the code interpreter drew, files it wrote), for an object URL. */
export async function fileContent(fileId: string, signal?: AbortSignal): Promise<Blob> {
  const response = await fetch(`/v1/files/${path(fileId)}/content`, {
    credentials: 'same-origin',
    headers: authHeaders(),
    signal: signal ?? null,
  });
  if (!response.ok) throw await signedOutAware(response);
  return response.blob();
}

export const createVectorStore = ({ name, fileIds }: { name: string; fileIds: readonly string[] }) =>
  api<VectorStore>('/v1/vector_stores', { method: 'POST', body: { name, file_ids: fileIds } });

export const addVectorStoreFile = (vectorStoreId: string, fileId: string) =>
  api<VectorStoreFile>(`/v1/vector_stores/${path(vectorStoreId)}/files`, {
    method: 'POST',
    body: { file_id: fileId },
  });

export const removeVectorStoreFile = (vectorStoreId: string, fileId: string) =>
  api<{ deleted: boolean }>(`/v1/vector_stores/${path(vectorStoreId, 'files', fileId)}`, {
    method: 'DELETE',
  });

export const listVectorStoreFiles = (vectorStoreId: string) =>
  listAll<VectorStoreFile>(`/v1/vector_stores/${path(vectorStoreId)}/files`, { order: 'asc' });

export const createThread = () => api<Thread>('/v1/threads', { method: 'POST', body: {} });

export const addMessage = (
  threadId: string,
  { content, attachments }: { content: string; attachments: readonly Attachment[] },
) =>
  api<Message>(`/v1/threads/${path(threadId)}/messages`, {
    method: 'POST',
    body: { role: 'user', content, ...(attachments.length > 0 ? { attachments } : {}) },
  });

export const getRun = (threadId: string, runId: string) =>
  api<Run>(`/v1/threads/${path(threadId, 'runs', runId)}`);

export const listRunSteps = (threadId: string, runId: string) =>
  listAll<RunStep>(`/v1/threads/${path(threadId, 'runs', runId)}/steps`, {
    order: 'asc',
    // What OpenAI needs to return file_search results with their text; ignored where unknown.
    'include[]': 'step_details.tool_calls[*].file_search.results[*].content',
  });

export async function loadRunView(threadId: string, runId: string): Promise<RunView> {
  const [run, steps] = await Promise.all([getRun(threadId, runId), listRunSteps(threadId, runId)]);
  return { run, steps };
}

/** A thread's messages and runs, each run with its steps. */
export async function loadThread(threadId: string): Promise<ThreadState> {
  const [messages, runs] = await Promise.all([
    listAll<Message>(`/v1/threads/${path(threadId)}/messages`, { order: 'asc' }),
    listAll<Run>(`/v1/threads/${path(threadId)}/runs`, { order: 'asc' }),
  ]);
  const steps = await Promise.all(runs.map((run) => listRunSteps(threadId, run.id)));
  return { messages, runs: runs.map((run, index) => ({ run, steps: steps[index] ?? [] })) };
}

export interface RunOptions {
  readonly assistantId: string;
  readonly toolChoice: ToolChoice;
  readonly additionalInstructions: string;
}

/** Creates a run with `stream: true` and calls `onEvent` with each event as it arrives. */
export function streamRun(
  threadId: string,
  options: RunOptions,
  { signal, onEvent }: { signal: AbortSignal; onEvent: (event: StreamEvent) => void },
): Promise<void> {
  return stream(`/v1/threads/${path(threadId)}/runs`, {
    body: {
      assistant_id: options.assistantId,
      tool_choice: options.toolChoice,
      ...(options.additionalInstructions.trim()
        ? { additional_instructions: options.additionalInstructions }
        : {}),
      stream: true,
    },
    signal,
    onEvent,
  });
}

/** Answers a run's function calls and streams the rest of the run. */
export function streamToolOutputs(
  threadId: string,
  runId: string,
  outputs: readonly { readonly tool_call_id: string; readonly output: string }[],
  { signal, onEvent }: { signal: AbortSignal; onEvent: (event: StreamEvent) => void },
): Promise<void> {
  return stream(`/v1/threads/${path(threadId, 'runs', runId)}/submit_tool_outputs`, {
    body: { tool_outputs: outputs, stream: true },
    signal,
    onEvent,
  });
}

export const cancelRun = (threadId: string, runId: string) =>
  api<Run>(`/v1/threads/${path(threadId, 'runs', runId)}/cancel`, { method: 'POST', body: {} });

async function stream(
  url: string,
  { body, signal, onEvent }: { body: unknown; signal: AbortSignal; onEvent: (event: StreamEvent) => void },
): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...authHeaders() },
    body: JSON.stringify(body),
    signal,
  });
  if (!response.ok || !response.body) throw await signedOutAware(response);
  for await (const event of readStreamEvents(response.body)) {
    if (event.event === 'error') {
      const error = event.data as { message?: string; code?: string | null };
      throw new ApiError(error.message ?? 'stream error', {
        status: 500,
        code: error.code ?? null,
        param: null,
      });
    }
    if (event.event === 'done') return;
    onEvent(event);
  }
}

async function signedOutAware(response: Response): Promise<ApiError> {
  const error = await toApiError(response);
  if (error.status === 401 && error.code === 'not_signed_in')
    window.dispatchEvent(new Event(SIGNED_OUT_EVENT));
  return error;
}

/** Follows a cursor-paged list to its end (100 a page; a playground's lists are small). */
async function listAll<Item extends { readonly id: string }>(
  url: string,
  params: Readonly<Record<string, string>>,
): Promise<Item[]> {
  const items: Item[] = [];
  let after: string | null = null;
  for (let page = 0; page < 50; page++) {
    const query = new URLSearchParams({ limit: '100', ...params });
    if (after) query.set('after', after);
    const result: ListPage<Item> = await api<ListPage<Item>>(`${url}?${query}`);
    items.push(...result.data);
    const last = result.data.at(-1);
    if (!result.has_more || !last) break;
    after = result.last_id ?? last.id;
  }
  return items;
}
