// Light, dark, or following the system: applied as `data-theme` on <html> (the CSS reads it),
// remembered in localStorage so index.html's first script can apply it before the first paint.
import { useEffect, useSyncExternalStore } from 'react';
import type { Theme } from '../api/types';

const STORAGE_KEY = 'atelier.theme';
const DARK_QUERY = '(prefers-color-scheme: dark)';

let current: Theme = readStored();
const listeners = new Set<() => void>();

function readStored(): Theme {
  try {
    const value = localStorage.getItem(STORAGE_KEY);
    return value === 'light' || value === 'dark' ? value : 'system';
  } catch {
    return 'system';
  }
}

function apply(): void {
  const dark = current === 'dark' || (current === 'system' && matchMedia(DARK_QUERY).matches);
  document.documentElement.dataset['theme'] = dark ? 'dark' : 'light';
}

export function setTheme(theme: Theme): void {
  current = theme;
  try {
    if (theme === 'system') localStorage.removeItem(STORAGE_KEY);
    else localStorage.setItem(STORAGE_KEY, theme);
  } catch {
    // private mode: the choice lasts for this page only
  }
  apply();
  for (const listener of listeners) listener();
}

export function useTheme(): Theme {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => current,
  );
}

/** Follows the system's light/dark switch while the theme is 'system'. */
export function useSystemThemeFollower(): void {
  useEffect(() => {
    const media = matchMedia(DARK_QUERY);
    const onChange = () => apply();
    media.addEventListener('change', onChange);
    apply();
    return () => media.removeEventListener('change', onChange);
  }, []);
}
