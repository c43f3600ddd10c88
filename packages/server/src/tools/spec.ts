// The tool spec: what the run engine needs from the built-in tools of assistants. Types only;
// the retrieval engine (tools/retrieval/) and the code-interpreter sandbox
// (tools/code-interpreter/) are adapted to these by platform/file-search-tool.ts and
// platform/code-interpreter-tool.ts, chosen in main.ts (start-tools.ts); the engine never
// imports them.

/** One passage found for a file_search (v2) / retrieval (v1) call. */
export interface FileSearchHit {
  readonly fileId: string;
  readonly fileName: string;
  /** In [0, 1], higher is better. */
  readonly score: number;
  /** The passage, exactly as it is in the file: quoted in citations. */
  readonly text: string;
}

export interface FileSearchRequest {
  /** Only this workspace's stores and files are searched. */
  readonly workspaceId: string;
  /** The assistant's and the thread's vector stores (v2 `tool_resources.file_search`). */
  readonly vectorStoreIds: readonly string[];
  /**
   * Files to search that are in no vector store: v1 `file_ids` of the assistant and messages, and
   * v2 message attachments for file_search.
   */
  readonly fileIds: readonly string[];
  /** What the model asked for. */
  readonly query: string;
  /**
   * The thread's newest user message, searched beside the model's query: a model's query often
   * drops words of the question (OpenAI's file_search runs several queries too).
   */
  readonly userMessage?: string;
  readonly maxResults: number;
  readonly scoreThreshold?: number;
  readonly signal?: AbortSignal;
}

export interface FileSearchTool {
  search(request: FileSearchRequest): Promise<readonly FileSearchHit[]>;
  /**
   * Creates a vector store of these files (the `vector_stores` helper of v2 `tool_resources`)
   * and returns its id; absent when the backend cannot, which makes that helper a clear 400.
   */
  createVectorStore?(request: {
    readonly workspaceId: string;
    readonly fileIds: readonly string[];
    readonly metadata: Readonly<Record<string, string>>;
    readonly chunkingStrategy?: Readonly<Record<string, unknown>>;
  }): Promise<string>;
}

export interface CodeInterpreterRequest {
  readonly workspaceId: string;
  /** The session: the thread, so variables and /mnt/data persist across a thread's calls. */
  readonly sessionId: string;
  readonly code: string;
  /** Files to place under /mnt/data (assistant and thread `tool_resources`, v1 `file_ids`, attachments). */
  readonly fileIds: readonly string[];
  readonly signal?: AbortSignal;
}

export interface CodeInterpreterResult {
  /** What the code printed (stdout and stderr), with the error's traceback when it raised. */
  readonly logs: string;
  /** Images the code produced, already stored as files: they become `image_file` content. */
  readonly imageFileIds: readonly string[];
  /** Files written under /mnt/data, stored as files: `sandbox:/mnt/data/…` links cite them. */
  readonly files: readonly { readonly fileId: string; readonly path: string }[];
}

export interface CodeInterpreterTool {
  execute(request: CodeInterpreterRequest): Promise<CodeInterpreterResult>;
}

/** What a browsing call gives the model (text labelled as web content) and the sources it may cite. */
export interface BrowserToolOutput {
  readonly text: string;
  readonly sources: readonly { readonly index: number; readonly title: string; readonly url: string }[];
}

/** Web browsing (a GPT capability): search through the configured provider, open a page. */
export interface BrowserTool {
  /** The search provider's name; undefined when none is configured (then only pages open). */
  readonly searchProvider?: string | undefined;
  search(query: string, options?: { signal?: AbortSignal; firstIndex?: number }): Promise<BrowserToolOutput>;
  open(url: string, options?: { signal?: AbortSignal; index?: number }): Promise<BrowserToolOutput>;
}

/** The built-in tools a server has; a missing one makes runs that call it fail with a clear error. */
export interface BuiltInTools {
  readonly fileSearch?: FileSearchTool;
  readonly codeInterpreter?: CodeInterpreterTool;
  readonly browser?: BrowserTool;
}
