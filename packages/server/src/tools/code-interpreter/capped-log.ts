// An execution's output, kept within a budget: its beginning and its end survive (the end is
// where errors are), the middle of a flood is dropped and counted.

export class CappedLog {
  readonly #headLimit: number;
  readonly #tailLimit: number;
  readonly #head: Buffer[] = [];
  #headBytes = 0;
  #tail: Buffer[] = [];
  #tailBytes = 0;
  #dropped = 0;

  constructor(limitBytes: number) {
    this.#headLimit = Math.ceil(limitBytes / 2);
    this.#tailLimit = Math.floor(limitBytes / 2);
  }

  /** Bytes received beyond what is kept. */
  get droppedBytes(): number {
    return this.#dropped;
  }

  /** Whether everything kept is already spoken for (more output only shifts the tail). */
  get full(): boolean {
    return this.#headBytes >= this.#headLimit && this.#tailBytes >= this.#tailLimit;
  }

  append(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.#headBytes < this.#headLimit) {
      const taken = chunk.subarray(0, this.#headLimit - this.#headBytes);
      this.#head.push(Buffer.from(taken));
      this.#headBytes += taken.length;
      chunk = chunk.subarray(taken.length);
      if (chunk.length === 0) return;
    }
    this.#tail.push(Buffer.from(chunk));
    this.#tailBytes += chunk.length;
    while (this.#tailBytes > this.#tailLimit) {
      const oldest = this.#tail[0]!;
      const excess = this.#tailBytes - this.#tailLimit;
      if (oldest.length <= excess) {
        this.#tail.shift();
        this.#tailBytes -= oldest.length;
        this.#dropped += oldest.length;
      } else {
        this.#tail[0] = oldest.subarray(excess);
        this.#tailBytes -= excess;
        this.#dropped += excess;
      }
    }
  }

  text(): string {
    const head = Buffer.concat(this.#head).toString('utf8');
    const tail = Buffer.concat(this.#tail).toString('utf8');
    if (this.#dropped === 0) return Buffer.concat([...this.#head, ...this.#tail]).toString('utf8');
    return `${head}\n[… ${this.#dropped} bytes of output left out …]\n${tail}`;
  }
}
