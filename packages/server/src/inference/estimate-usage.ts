// A request's usage when the model did not say it: counted with the model's own tokenizer from
// the prompt and the text it wrote, and marked estimated. For an upstream that sends no usage, and
// for an answer cut short before the engine's count came (its client left).
import type { GenerateRequest, LanguageModel, Usage } from './spec.js';

export async function estimateUsage(
  model: Pick<LanguageModel, 'tokenize'>,
  request: GenerateRequest,
  completion: string,
): Promise<Usage> {
  const input = request.input;
  const prompt =
    input.type === 'text'
      ? typeof input.prompt === 'string'
        ? input.prompt
        : ''
      : input.messages
          .map((message) =>
            typeof message.content === 'string'
              ? message.content
              : message.content.map((part) => (part.type === 'text' ? part.text : '')).join(''),
          )
          .join('\n');
  const promptTokens =
    input.type === 'text' && typeof input.prompt !== 'string'
      ? input.prompt.length
      : (await model.tokenize(prompt)).length;
  return {
    promptTokens,
    completionTokens: completion === '' ? 0 : (await model.tokenize(completion)).length,
    cachedPromptTokens: 0,
    estimated: true,
  };
}
