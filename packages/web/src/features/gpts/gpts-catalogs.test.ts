import { describe, expect, it } from 'vitest';
import { modelCatalog } from './gpts-api';
import { gptsEn } from './gpts-en';
import { translateGpts } from './gpts-i18n';
import { gptsKo } from './gpts-ko';

describe('the GPT pages’ translations', () => {
  it('Korean has every English key, each translated, with the same {parameters}', () => {
    expect(Object.keys(gptsKo).sort()).toEqual(Object.keys(gptsEn).sort());
    const parameters = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((match) => match[1]).sort();
    for (const key of Object.keys(gptsEn) as Array<keyof typeof gptsEn>) {
      expect(parameters(gptsKo[key]), key).toEqual(parameters(gptsEn[key]));
      expect(gptsKo[key].trim(), key).not.toBe('');
    }
  });

  it('fills in parameters', () => {
    expect(translateGpts('en', 'editor.publishedVersion', { version: 3 })).toBe('Published · version 3');
    expect(translateGpts('ko', 'share.done', { version: 2, audience: '나만 보기' })).toBe(
      '버전 2이(가) 게시되었습니다. 사용할 수 있는 사람: 나만 보기.',
    );
  });
});

describe('what /v1/models offers a GPT', () => {
  it('lists chat models (not GPTs, not embedding models) and finds no image model among them', () => {
    const catalog = modelCatalog([
      { id: 'atelier-tiny', owned_by: 'atelier', atelier: { capabilities: { chat: true } } },
      { id: 'embedder', owned_by: 'atelier', atelier: { capabilities: { chat: false, embeddings: true } } },
      { id: 'gpt-g-0123456789abcdefghijklmn', owned_by: 'atelier' },
      // As the server lists a GPT one may chat with.
      {
        id: 'gpt-g-abcdefghijklmn0123456789',
        owned_by: 'Ada',
        atelier: { provider: 'gpt', capabilities: { chat: true, tools: true } },
      },
    ]);
    expect(catalog).toEqual({ chat: [{ id: 'atelier-tiny', tools: true }], imageModel: false });
    expect(
      modelCatalog([
        { id: 'painter', owned_by: 'x', atelier: { capabilities: { chat: false, images: true } as never } },
      ]).imageModel,
    ).toBe(true);
  });
});
