// A scripted model behind the OpenAI-compatible upstream protocol, for runs whose tool calls must
// be exact (the test model's are noise): each script is keyed by the text of the thread's newest
// user message, and its turns are played one per model call since that message (a call after
// two tool results gets the third turn). A turn is a code_interpreter call with its code, a call
// of another function, or a text answer (given, or made from the newest tool result). The server
// under test drives it like any upstream, streaming included.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type ScriptedTurn =
  | { readonly code: string }
  | { readonly text: string }
  /**
   * A call of any function the request offers (a GPT action's operation, say), after `text` when
   * given (what a model says before it calls: "Let me check…").
   */
  | { readonly call: { readonly name: string; readonly arguments: unknown }; readonly text?: string }
  /** A text answer made from the newest tool result (what a model would say about it). */
  | { readonly reply: (toolOutput: string) => string };

export interface ScriptedUpstream {
  /** Base URL up to `/v1`, for ATELIER_UPSTREAMS. */
  readonly baseUrl: string;
  /** The requests each model call sent, as JSON. */
  readonly requests: Record<string, unknown>[];
  script(userMessage: string, turns: readonly ScriptedTurn[]): void;
  close(): Promise<void>;
}

interface WireMessage {
  readonly role: string;
  readonly content?: unknown;
}

export async function startScriptedUpstream({
  model = 'coder',
  contextLength = 32_768,
  wordDelayMs = 0,
}: {
  model?: string;
  contextLength?: number;
  /** A pause before each word of a text answer, for tests that watch an answer grow. */
  wordDelayMs?: number;
} = {}): Promise<ScriptedUpstream> {
  const scripts = new Map<string, readonly ScriptedTurn[]>();
  const requests: Record<string, unknown>[] = [];
  let calls = 0;

  const server: Server = createServer(async (request, response) => {
    if (request.method === 'GET' && request.url === '/v1/models') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          object: 'list',
          data: [{ id: model, object: 'model', owned_by: 'script', context_length: contextLength }],
        }),
      );
      return;
    }
    if (request.method !== 'POST' || request.url !== '/v1/chat/completions') {
      response.writeHead(404, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: { message: 'not found', type: 'invalid_request_error' } }));
      return;
    }
    const body = JSON.parse(await readBody(request)) as { messages: WireMessage[] };
    requests.push(body);
    const lastUser = body.messages.findLastIndex((message) => message.role === 'user');
    const question = lastUser < 0 ? '' : textOf(body.messages[lastUser]!.content);
    const turns = scripts.get(question);
    const index = body.messages.slice(lastUser + 1).filter((message) => message.role === 'tool').length;
    const scripted = turns?.[index] ?? {
      text: `No script for ${JSON.stringify(question)} at turn ${index}.`,
    };
    const toolOutput = textOf(body.messages.findLast((message) => message.role === 'tool')?.content);
    const turn = 'reply' in scripted ? { text: scripted.reply(toolOutput) } : scripted;
    calls += 1;
    const id = `chatcmpl-script${calls}`;
    const chunk = (delta: Record<string, unknown>, finishReason: string | null) =>
      `data: ${JSON.stringify({
        id,
        object: 'chat.completion.chunk',
        created: Math.floor(Date.now() / 1000),
        model,
        choices: [{ index: 0, delta, finish_reason: finishReason }],
      })}\n\n`;
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    if ('code' in turn || 'call' in turn) {
      const name = 'code' in turn ? 'code_interpreter' : turn.call.name;
      const args = JSON.stringify('code' in turn ? { code: turn.code } : turn.call.arguments);
      const before = 'call' in turn ? turn.text : undefined;
      if (before) response.write(chunk({ role: 'assistant', content: before }, null));
      response.write(
        chunk(
          {
            ...(before ? {} : { role: 'assistant' }),
            tool_calls: [
              {
                index: 0,
                id: `call_script${calls}`,
                type: 'function',
                function: { name, arguments: '' },
              },
            ],
          },
          null,
        ),
      );
      // In two pieces, as upstreams stream arguments.
      const half = Math.floor(args.length / 2);
      for (const piece of [args.slice(0, half), args.slice(half)]) {
        response.write(chunk({ tool_calls: [{ index: 0, function: { arguments: piece } }] }, null));
      }
      response.write(chunk({}, 'tool_calls'));
    } else {
      response.write(chunk({ role: 'assistant', content: '' }, null));
      for (const word of turn.text.split(/(?<= )/)) {
        if (wordDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, wordDelayMs));
        if (response.destroyed) return;
        response.write(chunk({ content: word }, null));
      }
      response.write(chunk({}, 'stop'));
    }
    response.write(
      `data: ${JSON.stringify({
        id,
        object: 'chat.completion.chunk',
        created: Math.floor(Date.now() / 1000),
        model,
        choices: [],
        usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
      })}\n\n`,
    );
    response.end('data: [DONE]\n\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    script: (userMessage, turns) => scripts.set(userMessage, turns),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part: { type?: string; text?: string }) => (part.type === 'text' ? (part.text ?? '') : ''))
    .join('');
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
