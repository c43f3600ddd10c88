// Images in threads reach a model that can see them as images: an uploaded file (`image_file`,
// from the API or a web chat) as a data URL of its bytes, an `image_url` as it was given. A model
// without vision is told, in text, that an image is there. Checked on what two scripted upstream
// models (test/support/scripted-upstream.ts) actually receive: one marked as seeing (as
// `atelier models set … --vision on`), one not.
import type OpenAI from 'openai';
import { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../../packages/server/src/test-support/test-server.js';
import { startApiServer } from '../support/api-server.js';
import { solidPng } from '../support/png.js';
import { type ScriptedUpstream, startScriptedUpstream } from '../support/scripted-upstream.js';
import { type Json, Visitor } from '../support/web-visitor.js';

const EYE = 'eye/viewer';
const BLIND = 'blind/reader';
const PHOTO = solidPng({ width: 8, height: 6, rgb: [200, 40, 40] });
const PHOTO_URL = `data:image/png;base64,${PHOTO.toString('base64')}`;
const REMOTE = 'https://images.example.com/hive.jpg';

let eye: ScriptedUpstream;
let blind: ScriptedUpstream;
let server: TestServer;
let client: OpenAI;

beforeAll(async () => {
  eye = await startScriptedUpstream({ model: 'viewer' });
  blind = await startScriptedUpstream({ model: 'reader' });
  server = await startApiServer({
    env: {
      ATELIER_UPSTREAMS: JSON.stringify([
        { name: 'eye', base_url: eye.baseUrl, prefix: 'eye/' },
        { name: 'blind', base_url: blind.baseUrl, prefix: 'blind/' },
      ]),
    },
  });
  await server.server.storage.repositories.modelRegistry.updateSettings(EYE, {
    capabilities: { vision: true },
  });
  await server.server.reloadRegistry();
  client = server.client;
});
afterAll(async () => {
  await server?.close();
  await eye?.close();
  await blind?.close();
});

interface WireMessage {
  readonly role: string;
  readonly content: unknown;
}

/** The user message of the model call a question went out in. */
function sentQuestion(upstream: ScriptedUpstream, question: string): WireMessage {
  for (const request of [...upstream.requests].reverse()) {
    const messages = request['messages'] as WireMessage[];
    const found = messages.findLast(
      (message) =>
        message.role === 'user' &&
        (typeof message.content === 'string'
          ? message.content.startsWith(question)
          : Array.isArray(message.content) &&
            message.content.some(
              (part: Json) => part.type === 'text' && String(part.text).startsWith(question),
            )),
    );
    if (found) return found;
  }
  throw new Error(`no model call asked ${JSON.stringify(question)}`);
}

async function runOn(model: string, content: OpenAI.Beta.Threads.MessageContentPartParam[]) {
  const assistant = await client.beta.assistants.create({ model });
  const run = await client.beta.threads.createAndRunPoll({
    assistant_id: assistant.id,
    thread: { messages: [{ role: 'user', content }] },
  });
  expect(run.status).toBe('completed');
  return run;
}

describe('images in runs', () => {
  it('sends an uploaded image to a vision model as a data URL of its bytes', async () => {
    const photo = await client.files.create({ file: await toFile(PHOTO, 'red.png'), purpose: 'vision' });
    await runOn(EYE, [
      { type: 'text', text: 'What colour is this square?' },
      { type: 'image_file', image_file: { file_id: photo.id } },
    ]);
    expect(sentQuestion(eye, 'What colour is this square?').content).toEqual([
      { type: 'text', text: 'What colour is this square?' },
      { type: 'image_url', image_url: { url: PHOTO_URL } },
    ]);
  });

  it('tells a model without vision that an image is there, without its bytes', async () => {
    const photo = await client.files.create({ file: await toFile(PHOTO, 'red.png'), purpose: 'vision' });
    await runOn(BLIND, [
      { type: 'text', text: 'Describe the picture.' },
      { type: 'image_file', image_file: { file_id: photo.id } },
    ]);
    // Text only (the upstream client sends a text-only message as a string).
    expect(sentQuestion(blind, 'Describe the picture.').content).toBe(
      `Describe the picture.\n[image file ${photo.id}: not shown, this model cannot see images]`,
    );
    expect(JSON.stringify(blind.requests)).not.toContain(PHOTO.toString('base64'));
  });

  it('passes image_url parts (https and data URLs) to a vision model as they are; describes them otherwise', async () => {
    const content: OpenAI.Beta.Threads.MessageContentPartParam[] = [
      { type: 'text', text: 'Compare these two.' },
      { type: 'image_url', image_url: { url: REMOTE } },
      { type: 'image_url', image_url: { url: PHOTO_URL } },
    ];
    await runOn(EYE, content);
    expect(sentQuestion(eye, 'Compare these two.').content).toEqual([
      { type: 'text', text: 'Compare these two.' },
      { type: 'image_url', image_url: { url: REMOTE } },
      { type: 'image_url', image_url: { url: PHOTO_URL } },
    ]);
    await runOn(BLIND, content);
    expect(sentQuestion(blind, 'Compare these two.').content).toBe(
      [
        'Compare these two.',
        `[image ${REMOTE}: not shown, this model cannot see images]`,
        '[image (inline): not shown, this model cannot see images]',
      ].join('\n'),
    );
  });

  it('says so when an image’s file was deleted before the run', async () => {
    const photo = await client.files.create({ file: await toFile(PHOTO, 'gone.png'), purpose: 'vision' });
    const thread = await client.beta.threads.create({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Is it still there?' },
            { type: 'image_file', image_file: { file_id: photo.id } },
          ],
        },
      ],
    });
    await client.files.delete(photo.id);
    const assistant = await client.beta.assistants.create({ model: EYE });
    const run = await client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id });
    expect(run.status).toBe('completed');
    expect(sentQuestion(eye, 'Is it still there?').content).toBe(
      `Is it still there?\n[image file ${photo.id}: not sent, the file no longer exists]`,
    );
  });
});

describe('images in web chats', () => {
  it('an image attached to a chat question reaches a vision model', async () => {
    const origin = server.baseURL.replace(/\/v1$/, '');
    const ada = new Visitor(origin);
    await ada.signUp('Ada', 'ada@example.com');
    const photo = await ada.sdk(server).files.create({
      file: await toFile(PHOTO, 'square.png'),
      purpose: 'vision',
    });
    const started = await ada.call('POST', '/api/chats', {
      body: {
        message: {
          id: 'q1',
          content: [
            { type: 'text', text: 'What is this shape?' },
            { type: 'image_file', image_file: { file_id: photo.id } },
          ],
          answer_id: 'a1',
          model: EYE,
        },
      },
    });
    expect(started.status).toBe(201);
    await expect
      .poll(async () => {
        const chat = (await ada.call('GET', `/api/chats/${started.body.chat.id}`)).body;
        return chat.messages.find((message: Json) => message.id === 'a1').status;
      })
      .toBe('complete');
    expect(sentQuestion(eye, 'What is this shape?').content).toEqual([
      { type: 'text', text: 'What is this shape?' },
      { type: 'image_url', image_url: { url: PHOTO_URL } },
    ]);
  });
});
