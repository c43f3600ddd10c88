import { describe, expect, it } from 'vitest';
import { attachOptions, toolsForFile } from './attach-options';

const bothTools = { file_search: true, code_interpreter: true };

describe('what a message may carry', () => {
  it('to a model: images when it can see, files for the tools when it can call them', () => {
    expect(attachOptions({ server: bothTools, gpt: null, model: { vision: true, tools: true } })).toEqual({
      images: true,
      fileSearch: true,
      codeInterpreter: true,
    });
    expect(attachOptions({ server: bothTools, gpt: null, model: { vision: false, tools: false } })).toEqual({
      images: false,
      fileSearch: false,
      codeInterpreter: false,
    });
  });

  it('to a GPT: documents always, images and data files by what the GPT takes', () => {
    expect(attachOptions({ server: bothTools, gpt: 'unknown', model: { vision: true } })).toEqual({
      images: false,
      fileSearch: true,
      codeInterpreter: false,
    });
    const takesAll = { images: true, codeInterpreter: true };
    const options = attachOptions({ server: bothTools, gpt: takesAll, model: undefined });
    expect(options).toEqual({ images: true, fileSearch: true, codeInterpreter: true });
    expect(toolsForFile('sales.csv', options)).toEqual(['code_interpreter']);
    expect(toolsForFile('notes.pdf', options)).toEqual(['file_search']);
    // Without a sandbox on this server, a GPT's code interpreter takes nothing.
    expect(
      attachOptions({
        server: { file_search: true, code_interpreter: false },
        gpt: takesAll,
        model: undefined,
      }),
    ).toEqual({ images: true, fileSearch: true, codeInterpreter: false });
  });
});
