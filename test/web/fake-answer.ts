// An answer's stream as the server sends it (`chat.turn`, then the run's Assistants events), for
// browser tests that need an answer a random-weight model will not write: Markdown of every kind,
// citations of files, images and files made by the code interpreter. The page's request is
// answered with it (page.route), so what is tested is how the page renders such a stream.
import { randomBytes } from 'node:crypto';
import type { Route } from 'playwright-core';

export type FakeAnnotation =
  | { readonly type: 'file_citation'; readonly text: string; readonly fileId: string }
  | { readonly type: 'file_path'; readonly text: string; readonly fileId: string };

export type FakePart =
  | { readonly type: 'text'; readonly text: string; readonly annotations?: readonly FakeAnnotation[] }
  | { readonly type: 'image_file'; readonly fileId: string };

const event = (name: string, data: unknown) =>
  `event: ${name}\ndata: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;

function wirePart(part: FakePart) {
  if (part.type === 'image_file') return { type: 'image_file', image_file: { file_id: part.fileId } };
  return {
    type: 'text',
    text: {
      value: part.text,
      annotations: (part.annotations ?? []).map((annotation) => {
        const start = part.text.indexOf(annotation.text);
        const base = {
          type: annotation.type,
          text: annotation.text,
          start_index: start,
          end_index: start + annotation.text.length,
        };
        return annotation.type === 'file_citation'
          ? { ...base, file_citation: { file_id: annotation.fileId, quote: '' } }
          : { ...base, file_path: { file_id: annotation.fileId } };
      }),
    },
  };
}

/** The response to the page's request (a new chat's, or a question's), answering with `parts`. */
export function fakeAnswer(route: Route, parts: readonly FakePart[]) {
  // biome-ignore lint/suspicious/noExplicitAny: the page's request body, read loosely.
  const body = route.request().postDataJSON() as any;
  const asked = body.message ?? body;
  const now = Math.floor(Date.now() / 1000);
  const chatId = `chat_${randomBytes(18)
    .toString('base64')
    .replace(/[^A-Za-z0-9]/g, '')
    .padEnd(24, 'x')
    .slice(0, 24)}`;
  const runId = `run_${randomBytes(12).toString('hex')}`;
  const messageId = `msg_${randomBytes(12).toString('hex')}`;
  const node = (fields: Record<string, unknown>) => ({
    parts: [],
    attachments: [],
    error: null,
    thread_id: null,
    run_id: null,
    created_at: now,
    ...fields,
  });
  const stream = [
    event('chat.turn', {
      chat: {
        id: chatId,
        object: 'chat',
        title: body.title ?? 'Fake',
        temporary: false,
        model: asked.model,
        created_at: now,
        updated_at: now,
      },
      question: node({
        id: asked.id,
        parent_id: asked.parent_id ?? null,
        role: 'user',
        content: asked.content,
        status: 'complete',
        model: null,
      }),
      answer: node({
        id: asked.answer_id,
        parent_id: asked.id,
        role: 'assistant',
        content: '',
        status: 'in_progress',
        model: asked.model,
      }),
      run_id: runId,
    }),
    event('thread.run.created', { id: runId, object: 'thread.run', status: 'queued' }),
    event('thread.message.created', { id: messageId, object: 'thread.message', content: [] }),
  ];
  for (const [index, part] of parts.entries()) {
    if (part.type === 'image_file') {
      stream.push(
        event('thread.message.delta', {
          id: messageId,
          object: 'thread.message.delta',
          delta: { content: [{ index, type: 'image_file', image_file: { file_id: part.fileId } }] },
        }),
      );
      continue;
    }
    for (const piece of part.text.match(/[\s\S]{1,12}/g) ?? []) {
      stream.push(
        event('thread.message.delta', {
          id: messageId,
          object: 'thread.message.delta',
          delta: { content: [{ index, type: 'text', text: { value: piece } }] },
        }),
      );
    }
  }
  stream.push(
    event('thread.message.completed', {
      id: messageId,
      object: 'thread.message',
      content: parts.map(wirePart),
    }),
    event('thread.run.completed', { id: runId, object: 'thread.run', status: 'completed' }),
    event('done', '[DONE]'),
  );
  return { status: 200, headers: { 'content-type': 'text/event-stream' }, body: stream.join('') };
}
