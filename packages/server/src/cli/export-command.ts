// `atelier export training [--out FILE] [--since DATE]`: the web chats that may teach a model, as
// JSON Lines in OpenAI's fine-tuning chat format (`{"messages":[{"role":"user",…},…]}` per line),
// ready for a fine-tuning job. This is the only way chats leave for training, and it holds back
// what must never leave: chats started with history off, every chat of people whose "chat
// history & training" is off, and conversations with a GPT whose builder does not allow training
// (platform/chats-service.ts decides which).

import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { InvalidRequestError } from '../errors.js';
import { openStorage } from '../main.js';
import { createChatsService } from '../platform/chats-service.js';
import { type CliIo, configFrom, parseCommand } from './main.js';
import { parseDate } from './models-registry-command.js';

const USAGE = 'usage: atelier export training [--out FILE] [--since DATE]';

export async function runExport(args: readonly string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'training') throw new InvalidRequestError(USAGE);
  const { values, positionals } = parseCommand(rest, { out: { type: 'string' }, since: { type: 'string' } });
  if (positionals.length > 0) throw new InvalidRequestError(USAGE);
  const since = values.since === undefined ? undefined : parseDate(values.since, '--since');
  const out = values.out === undefined ? undefined : path.resolve(io.cwd, values.out);

  const storage = await openStorage(configFrom(io));
  // Written next to the file and moved in place at the end: a failed export leaves no half file.
  const partial = out ? `${out}.partial-${process.pid}` : undefined;
  const file = partial ? createWriteStream(partial, { flags: 'wx' }) : undefined;
  const sink = file ?? io.stdout;
  let count = 0;
  try {
    if (file) await once(file, 'open');
    const chats = createChatsService({ repositories: storage.repositories });
    for await (const example of chats.trainingExamples({ since })) {
      if (!sink.write(`${JSON.stringify({ messages: example.messages })}\n`)) await once(sink, 'drain');
      count++;
    }
    if (file && partial && out) {
      file.end();
      await once(file, 'finish');
      await rename(partial, out);
    }
  } catch (error) {
    if (file && partial) {
      file.destroy();
      await rm(partial, { force: true });
    }
    throw error;
  } finally {
    await storage.database.close();
  }
  const scope =
    since === undefined ? '' : ` changed since ${new Date(since * 1000).toISOString().slice(0, 10)}`;
  io.stderr.write(
    `Exported ${count} conversation${count === 1 ? '' : 's'}${scope} for training${out ? ` to ${out}` : ''}.\n`,
  );
  return 0;
}
