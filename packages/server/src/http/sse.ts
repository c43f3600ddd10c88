// Server-sent events on a raw Node response: data-only events for chat completions, named events
// for Assistants streams; respects back-pressure and stops when the client goes away.
import type { ServerResponse } from 'node:http';

export class SseWriter {
  private readonly response: ServerResponse;

  constructor(response: ServerResponse, { headers = {} }: { headers?: Record<string, string> } = {}) {
    this.response = response;
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      // No `connection` header: keep-alive is HTTP/1.1's default, and a `close` set by a shutdown
      // under way (http/graceful-close.ts) must stand.
      'x-accel-buffering': 'no',
      ...headers,
    });
    response.flushHeaders();
  }

  get closed(): boolean {
    return this.response.destroyed || this.response.writableEnded;
  }

  /** Writes one event; waits when the socket's buffer is full. */
  async send(data: unknown, { event = undefined }: { event?: string } = {}): Promise<void> {
    if (this.closed) return;
    const payload = typeof data === 'string' ? data : JSON.stringify(data);
    const text = `${event ? `event: ${event}\n` : ''}data: ${payload}\n\n`;
    if (!this.response.write(text)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.response.off('drain', done);
          this.response.off('close', done);
          resolve();
        };
        this.response.on('drain', done);
        this.response.on('close', done);
      });
    }
  }

  end(): void {
    if (!this.closed) this.response.end();
  }
}
