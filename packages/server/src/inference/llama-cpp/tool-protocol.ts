// How local models see and call tools: the widely trained "Hermes" convention (tools listed in
// the system prompt, calls as <tool_call>{"name","arguments"}</tool_call>, results as
// <tool_response>), plus a streaming parser that turns generated text back into tool-call events.
import type { ToolDefinition } from '../spec.js';
import { toGrammarSchema } from '../structured-output/grammar-schema.js';

export const TOOL_CALL_OPEN = '<tool_call>';
export const TOOL_CALL_CLOSE = '</tool_call>';

export function renderToolsPrompt(tools: readonly ToolDefinition[]): string {
  const lines = tools.map((tool) =>
    JSON.stringify({
      type: 'function',
      function: { name: tool.name, description: tool.description ?? '', parameters: tool.parameters },
    }),
  );
  return [
    '# Tools',
    '',
    'You may call one or more functions to assist with the user query.',
    '',
    'You are provided with function signatures within <tools></tools> XML tags:',
    '<tools>',
    ...lines,
    '</tools>',
    '',
    'For each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:',
    '<tool_call>',
    '{"name": <function-name>, "arguments": <args-json-object>}',
    '</tool_call>',
  ].join('\n');
}

export function renderToolCall({ name, arguments: args }: { name: string; arguments: string }): string {
  return `${TOOL_CALL_OPEN}\n{"name": ${JSON.stringify(name)}, "arguments": ${args.trim() || '{}'}}\n${TOOL_CALL_CLOSE}`;
}

export function renderToolResponse(content: string): string {
  return `<tool_response>\n${content}\n</tool_response>`;
}

/**
 * The JSON schema of one call, `{"name": const, "arguments": schema} | …`, that toolCallGrammar
 * wraps once node-llama-cpp compiled it. A strict function's schema was checked when the request
 * arrived: every keyword holds.
 */
export function toolCallSchema(tools: readonly ToolDefinition[]): Record<string, unknown> {
  return {
    oneOf: tools.map((tool) => ({
      type: 'object',
      properties: {
        name: { const: tool.name },
        arguments: toGrammarSchema(
          Object.keys(tool.parameters).length === 0 ? { type: 'object', properties: {} } : tool.parameters,
          { param: 'tools', strict: tool.strict === true },
        ),
      },
    })),
  };
}

/**
 * GBNF for tool calls, given the GBNF of a JSON schema `{name: const, arguments: schema} | …`
 * compiled by node-llama-cpp with root rule `root`. Forced (`tool_choice` required or a named
 * function): one call, or several when `parallel`. `auto`: any text, but every <tool_call> block the
 * model opens is completed as a valid call, so strict functions' arguments hold in auto mode too.
 */
export function toolCallGrammar({
  callGrammar,
  parallel,
  auto = false,
}: {
  callGrammar: string;
  parallel: boolean;
  auto?: boolean;
}): string {
  // node-llama-cpp ends its JSON root rule with a run of newlines that serves as a stop trigger
  // for its own chat loop; here the closing tag ends the call instead.
  const lines = callGrammar.split('\n').map((line) => {
    if (!line.startsWith('root ::=')) return line;
    return line.replace(/^root ::=/, 'tool-call-json ::=').replace(/\s*"(\\n)+"\s*\[\\n\]\*\s*$/, '');
  });
  if (auto) return [...freeTextWithToolCalls(), ...lines].join('\n');
  const call = `"${TOOL_CALL_OPEN}\\n" tool-call-json "\\n${TOOL_CALL_CLOSE}"`;
  const root = parallel ? `root ::= ${call} ("\\n" ${call})*` : `root ::= ${call}`;
  return [root, ...lines].join('\n');
}

/**
 * Rules for any text in which each complete `<tool_call>` goes on as a call: state `tool-text-i`
 * has just read the tag's first i characters (a text-search automaton; only the tag's first
 * character, `<`, starts it again). Every state may end, so a reply without a call ends as before.
 */
function freeTextWithToolCalls(): string[] {
  const tag = TOOL_CALL_OPEN;
  const rules = ['root ::= tool-text-0'];
  for (let index = 0; index < tag.length; index++) {
    const next = tag[index]!;
    const others = index === 0 ? '[^<]' : `[^<${next}]`;
    const advance =
      index === tag.length - 1
        ? `"${next}" "\\n" tool-call-json "\\n${TOOL_CALL_CLOSE}" tool-text-0`
        : `"${next}" tool-text-${index + 1}`;
    const alternatives =
      index === 0
        ? [`${others} tool-text-0`, advance]
        : [`${others} tool-text-0`, '"<" tool-text-1', advance];
    rules.push(`tool-text-${index} ::= ( ${alternatives.join(' | ')} )?`);
  }
  return rules;
}

export type ToolStreamEvent =
  | { type: 'text'; text: string }
  | { type: 'call-start'; index: number; name: string }
  | { type: 'call-arguments'; index: number; delta: string }
  | { type: 'call-end'; index: number };

const HEADER = /^\s*\{\s*"name"\s*:\s*"((?:[^"\\]|\\.)*)"\s*,\s*"arguments"\s*:\s*/;

/**
 * Incremental parser: text outside <tool_call> blocks passes through (holding back a possible
 * partial opening tag); inside a block, the name is emitted as soon as it is known and the
 * arguments stream as they are generated.
 */
export class ToolCallStreamParser {
  private state: 'text' | 'header' | 'arguments' | 'tail' | 'fallback' = 'text';
  private buffer = '';
  private index = -1;
  private depth = 0;
  private inString = false;
  private escaped = false;

  get callCount(): number {
    return this.index + 1;
  }

  push(text: string): ToolStreamEvent[] {
    this.buffer += text;
    const events: ToolStreamEvent[] = [];
    for (;;) {
      const before = this.buffer.length + this.state;
      this.step(events, false);
      if (this.buffer.length + this.state === before) break;
    }
    return events;
  }

  /** Flushes what is left at the end of generation (a cut-off call is closed as it stands). */
  finish(): ToolStreamEvent[] {
    const events: ToolStreamEvent[] = [];
    this.step(events, true);
    if (this.state === 'header' || this.state === 'fallback') {
      this.parseWholeCall(this.buffer, events);
    } else if (this.state === 'arguments') {
      if (this.buffer) events.push(this.argumentsEvent(this.buffer));
      events.push({ type: 'call-end', index: this.index });
    } else if (this.state === 'text' && this.buffer) {
      events.push({ type: 'text', text: this.buffer });
    }
    this.buffer = '';
    this.state = 'text';
    return events;
  }

  private step(events: ToolStreamEvent[], final: boolean): void {
    switch (this.state) {
      case 'text': {
        const at = this.buffer.indexOf(TOOL_CALL_OPEN);
        if (at >= 0) {
          const text = this.buffer.slice(0, at);
          if (text.trim() || (this.index < 0 && text)) events.push({ type: 'text', text });
          this.buffer = this.buffer.slice(at + TOOL_CALL_OPEN.length);
          this.state = 'header';
          return;
        }
        if (final) return;
        const keep = partialSuffixLength(this.buffer, TOOL_CALL_OPEN);
        const text = this.buffer.slice(0, this.buffer.length - keep);
        if (text) {
          // Whitespace between two calls is not content.
          if (this.index < 0 || text.trim()) events.push({ type: 'text', text });
          this.buffer = this.buffer.slice(text.length);
        }
        return;
      }
      case 'header': {
        const match = HEADER.exec(this.buffer);
        if (match) {
          this.index += 1;
          events.push({ type: 'call-start', index: this.index, name: JSON.parse(`"${match[1]}"`) as string });
          this.buffer = this.buffer.slice(match[0].length);
          this.state = 'arguments';
          this.depth = 0;
          this.inString = false;
          this.escaped = false;
          return;
        }
        // Not the canonical key order: fall back to parsing the whole block when it closes.
        const trimmed = this.buffer.trimStart();
        const canonical = '{"name":';
        const compact = trimmed.replace(/\s+/g, '');
        if (compact.length >= canonical.length && !compact.startsWith(canonical)) this.state = 'fallback';
        if (this.buffer.includes(TOOL_CALL_CLOSE)) this.state = 'fallback';
        return;
      }
      case 'fallback': {
        const end = this.buffer.indexOf(TOOL_CALL_CLOSE);
        if (end < 0) return;
        this.parseWholeCall(this.buffer.slice(0, end), events);
        this.buffer = this.buffer.slice(end + TOOL_CALL_CLOSE.length);
        this.state = 'text';
        return;
      }
      case 'arguments': {
        if (this.depth === 0 && !this.inString) {
          // The header matches as soon as `"arguments":` is in; the space after it may come later.
          this.buffer = this.buffer.trimStart();
          if (!this.buffer) return;
        }
        let consumed = 0;
        let done = false;
        for (const char of this.buffer) {
          consumed += char.length;
          if (this.scan(char)) {
            done = true;
            break;
          }
        }
        const delta = this.buffer.slice(0, consumed);
        if (delta) events.push(this.argumentsEvent(delta));
        this.buffer = this.buffer.slice(consumed);
        if (done) {
          // The call is complete with its arguments; the closing tag adds nothing to it.
          events.push({ type: 'call-end', index: this.index });
          this.state = 'tail';
        }
        return;
      }
      case 'tail': {
        const end = this.buffer.indexOf(TOOL_CALL_CLOSE);
        if (end < 0) return;
        this.buffer = this.buffer.slice(end + TOOL_CALL_CLOSE.length);
        this.state = 'text';
        return;
      }
    }
  }

  private argumentsEvent(delta: string): ToolStreamEvent {
    return { type: 'call-arguments', index: this.index, delta };
  }

  /** Feeds one character of the arguments value; true when the value is complete. */
  private scan(char: string): boolean {
    if (this.inString) {
      if (this.escaped) this.escaped = false;
      else if (char === '\\') this.escaped = true;
      else if (char === '"') {
        this.inString = false;
        return this.depth === 0;
      }
      return false;
    }
    if (char === '"') {
      this.inString = true;
      return false;
    }
    if (char === '{' || char === '[') {
      this.depth += 1;
      return false;
    }
    if (char === '}' || char === ']') {
      this.depth -= 1;
      return this.depth <= 0;
    }
    return false;
  }

  private parseWholeCall(body: string, events: ToolStreamEvent[]): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      parsed = undefined;
    }
    if (
      typeof parsed === 'object' &&
      parsed !== null &&
      typeof (parsed as { name?: unknown }).name === 'string'
    ) {
      const call = parsed as { name: string; arguments?: unknown };
      this.index += 1;
      events.push({ type: 'call-start', index: this.index, name: call.name });
      const args = typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments ?? {});
      events.push(this.argumentsEvent(args));
      events.push({ type: 'call-end', index: this.index });
      return;
    }
    // Not a call after all: the model's words stay words.
    events.push({ type: 'text', text: `${TOOL_CALL_OPEN}${body}` });
  }
}

/** Length of the longest suffix of `text` that is a proper prefix of `marker`. */
export function partialSuffixLength(text: string, marker: string): number {
  for (let length = Math.min(marker.length - 1, text.length); length > 0; length--) {
    if (text.endsWith(marker.slice(0, length))) return length;
  }
  return 0;
}
