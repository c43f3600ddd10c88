// A tiny i18n: typed message keys (a missing translation is a type error), `{name}` parameters,
// the language from the person's preference, else the browser's, and dates formatted by Intl.
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import { en, type MessageKey, type Messages } from './en';
import { ko } from './ko';

export type Language = 'en' | 'ko';

export const LANGUAGES: ReadonlyArray<{ readonly code: Language; readonly name: string }> = [
  { code: 'en', name: 'English' },
  { code: 'ko', name: '한국어' },
];

const CATALOGS: Readonly<Record<Language, Messages>> = { en, ko };
const STORAGE_KEY = 'atelier.language';

export type Translate = (key: MessageKey, params?: Readonly<Record<string, string | number>>) => string;

export function translate(
  language: Language,
  key: MessageKey,
  params: Readonly<Record<string, string | number>> = {},
): string {
  const template = CATALOGS[language][key] ?? en[key];
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    params[name] === undefined ? whole : String(params[name]),
  );
}

/** The supported language closest to `tag`, or null. */
export function supportedLanguage(tag: string | null | undefined): Language | null {
  const base = tag?.toLowerCase().split('-')[0];
  return LANGUAGES.find((language) => language.code === base)?.code ?? null;
}

function browserLanguage(): Language {
  for (const tag of navigator.languages ?? [navigator.language]) {
    const found = supportedLanguage(tag);
    if (found) return found;
  }
  return 'en';
}

function storedChoice(): Language | null {
  try {
    return supportedLanguage(localStorage.getItem(STORAGE_KEY));
  } catch {
    return null;
  }
}

interface I18nValue {
  readonly language: Language;
  /** null: follow the browser. */
  readonly choice: Language | null;
  setChoice(choice: Language | null): void;
  readonly t: Translate;
}

const I18nContext = createContext<I18nValue | null>(null);

export function I18nProvider({ children }: { children: ReactNode }) {
  const [choice, setChoiceState] = useState<Language | null>(storedChoice);
  const language = choice ?? browserLanguage();

  const setChoice = useCallback((next: Language | null) => {
    try {
      if (next) localStorage.setItem(STORAGE_KEY, next);
      else localStorage.removeItem(STORAGE_KEY);
    } catch {
      // private mode: the choice lasts for this page only
    }
    setChoiceState(next);
  }, []);

  useEffect(() => {
    document.documentElement.lang = language;
  }, [language]);

  const value = useMemo<I18nValue>(
    () => ({ language, choice, setChoice, t: (key, params) => translate(language, key, params) }),
    [language, choice, setChoice],
  );
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18nValue {
  const value = useContext(I18nContext);
  if (!value) throw new Error('useI18n outside I18nProvider');
  return value;
}
