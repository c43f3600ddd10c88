// The playground's strings, in its own English and Korean catalogs: they load with the
// playground's chunk instead of the app's first download. The language is the app's (useI18n).
import { useMemo } from 'react';
import { type Language, useI18n } from '../../i18n/i18n';
import { type PlaygroundKey, playgroundEn } from './playground-en';
import { playgroundKo } from './playground-ko';

export type PlaygroundTranslate = (
  key: PlaygroundKey,
  params?: Readonly<Record<string, string | number>>,
) => string;

const CATALOGS = { en: playgroundEn, ko: playgroundKo } as const;

export function translatePlayground(
  language: Language,
  key: PlaygroundKey,
  params: Readonly<Record<string, string | number>> = {},
): string {
  const template = CATALOGS[language][key] ?? playgroundEn[key];
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    params[name] === undefined ? whole : String(params[name]),
  );
}

export function usePlaygroundI18n(): { readonly language: Language; readonly t: PlaygroundTranslate } {
  const { language } = useI18n();
  return useMemo(
    () => ({ language, t: (key, params) => translatePlayground(language, key, params) }),
    [language],
  );
}
