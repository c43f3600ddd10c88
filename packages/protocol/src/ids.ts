// Object ids with OpenAI's prefixes (`chatcmpl-`, `asst_`, `file-`, …) and a random base62 tail.

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Random base62 string of `length` characters from the platform CSPRNG (Node and browsers). */
export function randomBase62(length: number): string {
  const out: string[] = [];
  // Rejection sampling keeps the distribution uniform (62 does not divide 256).
  while (out.length < length) {
    const bytes = new Uint8Array(Math.max(16, (length - out.length) * 2));
    globalThis.crypto.getRandomValues(bytes);
    for (const byte of bytes) {
      if (byte < 248 && out.length < length) out.push(ALPHABET[byte % 62]!);
    }
  }
  return out.join('');
}

export const ID_PREFIXES = {
  chatCompletion: 'chatcmpl-',
  completion: 'cmpl-',
  toolCall: 'call_',
  fingerprint: 'fp_',
  assistant: 'asst_',
  thread: 'thread_',
  message: 'msg_',
  run: 'run_',
  runStep: 'step_',
  file: 'file-',
  vectorStore: 'vs_',
  vectorStoreFileBatch: 'vsfb_',
  moderation: 'modr-',
  account: 'acct_',
  workspace: 'ws_',
  apiKey: 'key_',
} as const;

export type IdKind = keyof typeof ID_PREFIXES;

export function newId(kind: IdKind, length = 24): string {
  return ID_PREFIXES[kind] + randomBase62(length);
}
