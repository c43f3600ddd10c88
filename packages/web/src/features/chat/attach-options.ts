// What a message may carry, and which built-in tool reads each file: decided by the model (or
// the GPT) the chat talks to and the tools this server has.
import type { ToolType } from './chat-api';

/** Files the code interpreter reads best; other files go to file_search when there is one. */
const DATA_FILE = /\.(csv|tsv|xlsx|xls|json|jsonl|parquet|xml|sqlite|db)$/i;

/** What files a message can carry here: the model's vision, the server's built-in tools. */
export interface AttachOptions {
  readonly images: boolean;
  readonly fileSearch: boolean;
  readonly codeInterpreter: boolean;
}

/** What the server's built-in tools are (the session says). */
export interface ServerTools {
  readonly file_search: boolean;
  readonly code_interpreter: boolean;
}

/**
 * What a message may carry: to a GPT, documents (its file search reads them beside its
 * knowledge), images when the model it runs on can see, data files when it has the code
 * interpreter; to a model, images when it can see, files for the tools when it can call them.
 */
export function attachOptions({
  server,
  gpt,
  model,
}: {
  server: ServerTools | undefined;
  /** A chat with a GPT: what it takes (unknown yet: documents only). */
  gpt: { readonly images: boolean; readonly codeInterpreter: boolean } | 'unknown' | null;
  model: { readonly vision?: boolean; readonly tools?: boolean } | undefined;
}): AttachOptions {
  if (gpt !== null) {
    const takes = gpt === 'unknown' ? { images: false, codeInterpreter: false } : gpt;
    return {
      images: takes.images,
      fileSearch: !!server?.file_search,
      codeInterpreter: takes.codeInterpreter && !!server?.code_interpreter,
    };
  }
  const callsTools = model?.tools !== false;
  return {
    images: !!model?.vision,
    fileSearch: callsTools && !!server?.file_search,
    codeInterpreter: callsTools && !!server?.code_interpreter,
  };
}

/** The built-in tools that read a file here, by its kind; none when it cannot be read. */
export function toolsForFile(name: string, options: AttachOptions): ToolType[] {
  const data = DATA_FILE.test(name);
  if (data && options.codeInterpreter) return ['code_interpreter'];
  if (options.fileSearch) return ['file_search'];
  if (options.codeInterpreter) return ['code_interpreter'];
  return [];
}
