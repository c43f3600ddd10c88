import { describe, expect, it } from 'vitest';
import { en } from './en';
import { translate } from './i18n';
import { ko } from './ko';

describe('translations', () => {
  it('Korean has every English key, each translated, with the same {parameters}', () => {
    expect(Object.keys(ko).sort()).toEqual(Object.keys(en).sort());
    for (const key of Object.keys(en) as Array<keyof typeof en>) {
      const parameters = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((match) => match[1]).sort();
      expect(parameters(ko[key]), key).toEqual(parameters(en[key]));
      expect(ko[key].trim(), key).not.toBe('');
    }
  });

  it('fills in parameters', () => {
    expect(translate('en', 'chat.version', { current: 2, total: 3 })).toBe('2 / 3');
    expect(translate('ko', 'sidebar.noResults', { query: '고양이' })).toBe(
      '“고양이”와(과) 일치하는 채팅이 없습니다.',
    );
  });
});
