import { describe, expect, it } from 'vitest';
import { playgroundEn } from './playground-en';
import { translatePlayground } from './playground-i18n';
import { playgroundKo } from './playground-ko';

describe('the playground’s translations', () => {
  it('Korean has every English key, each translated, with the same {parameters}', () => {
    expect(Object.keys(playgroundKo).sort()).toEqual(Object.keys(playgroundEn).sort());
    const parameters = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((match) => match[1]).sort();
    for (const key of Object.keys(playgroundEn) as Array<keyof typeof playgroundEn>) {
      expect(parameters(playgroundKo[key]), key).toEqual(parameters(playgroundEn[key]));
      expect(playgroundKo[key].trim(), key).not.toBe('');
    }
  });

  it('fills in parameters', () => {
    expect(translatePlayground('en', 'run.usageValue', { prompt: 12, completion: 30, total: 42 })).toBe(
      '12 prompt + 30 completion = 42',
    );
    expect(translatePlayground('ko', 'functions.edit', { name: 'get_weather' })).toBe(
      '함수 get_weather 편집',
    );
  });
});
