// The keyboard shortcuts, ChatGPT's where it has one: one table drives both the handler and
// the help dialog, so the two cannot disagree.
import { useEffect, useRef } from 'react';
import type { MessageKey } from '../../i18n/en';

export type ShortcutAction = 'newChat' | 'focusInput' | 'stop' | 'copyLast' | 'toggleSidebar' | 'help';

export interface Shortcut {
  readonly action: ShortcutAction;
  readonly label: MessageKey;
  /** Ctrl on Windows and Linux, ⌘ on macOS. */
  readonly mod: boolean;
  readonly shift: boolean;
  /** KeyboardEvent.key, lower-cased. */
  readonly key: string;
}

export const SHORTCUTS: readonly Shortcut[] = [
  { action: 'newChat', label: 'shortcuts.newChat', mod: true, shift: true, key: 'o' },
  { action: 'focusInput', label: 'shortcuts.focusInput', mod: false, shift: true, key: 'escape' },
  { action: 'stop', label: 'shortcuts.stop', mod: false, shift: false, key: 'escape' },
  { action: 'copyLast', label: 'shortcuts.copyLast', mod: true, shift: true, key: 'c' },
  { action: 'toggleSidebar', label: 'shortcuts.toggleSidebar', mod: true, shift: true, key: 's' },
  { action: 'help', label: 'shortcuts.help', mod: true, shift: false, key: '/' },
];

export const isMac = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform);

export function keysOf(shortcut: Shortcut): string[] {
  const keys: string[] = [];
  if (shortcut.mod) keys.push(isMac ? '⌘' : 'Ctrl');
  if (shortcut.shift) keys.push(isMac ? '⇧' : 'Shift');
  keys.push(shortcut.key === 'escape' ? 'Esc' : shortcut.key.toUpperCase());
  return keys;
}

/**
 * Calls `handle(action)` for each shortcut pressed; a handler returning false lets the key do
 * what it would have done (Escape that stopped nothing still closes a menu).
 */
export function useShortcuts(handle: (action: ShortcutAction) => boolean): void {
  const handler = useRef(handle);
  handler.current = handle;
  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent) => {
      if (event.isComposing || event.defaultPrevented) return;
      const mod = isMac ? event.metaKey : event.ctrlKey;
      const key = event.key.toLowerCase();
      const shortcut = SHORTCUTS.find(
        (candidate) =>
          candidate.key === key &&
          candidate.mod === mod &&
          candidate.shift === event.shiftKey &&
          !event.altKey,
      );
      // Escape belongs to an open dialog or menu first.
      if (!shortcut || (key === 'escape' && document.querySelector('dialog[open], [role="menu"]'))) return;
      if (handler.current(shortcut.action)) event.preventDefault();
    };
    window.addEventListener('keydown', onKeyDown);
    return () => window.removeEventListener('keydown', onKeyDown);
  }, []);
}
