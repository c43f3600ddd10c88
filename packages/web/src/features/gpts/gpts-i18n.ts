// The GPT pages' strings, in their own English and Korean catalogs: they load with the pages'
// chunk instead of the app's first download. The language is the app's (useI18n).
import { useMemo } from 'react';
import { type Language, useI18n } from '../../i18n/i18n';
import { type GptsKey, gptsEn } from './gpts-en';
import { gptsKo } from './gpts-ko';

export type GptsTranslate = (key: GptsKey, params?: Readonly<Record<string, string | number>>) => string;

const CATALOGS = { en: gptsEn, ko: gptsKo } as const;

export function translateGpts(
  language: Language,
  key: GptsKey,
  params: Readonly<Record<string, string | number>> = {},
): string {
  const template = CATALOGS[language][key] ?? gptsEn[key];
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    params[name] === undefined ? whole : String(params[name]),
  );
}

export function useGptsI18n(): { readonly language: Language; readonly t: GptsTranslate } {
  const { language } = useI18n();
  return useMemo(() => ({ language, t: (key, params) => translateGpts(language, key, params) }), [language]);
}
