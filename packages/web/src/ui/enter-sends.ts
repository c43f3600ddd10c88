// Enter sends a message, as in ChatGPT: not with Shift (a new line), not while an input method
// is composing (Korean, Japanese: Enter picks the word), and not on a touch keyboard, whose Enter
// is a new line (it has its own send button).
import type { KeyboardEvent } from 'react';

export function enterSends(event: KeyboardEvent<HTMLTextAreaElement>): boolean {
  if (event.key !== 'Enter' || event.shiftKey || event.nativeEvent.isComposing || event.keyCode === 229) {
    return false;
  }
  return !matchMedia('(pointer: coarse)').matches;
}
