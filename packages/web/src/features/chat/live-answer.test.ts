import { describe, expect, it } from 'vitest';
import { type AnswerDelta, type LiveAnswer, NOTHING_KNOWN, withDelta, withSaved } from './live-answer';

const ANSWER =
  'Jeju is a volcanic island off the south coast of Korea, known for Hallasan and its lava tubes.';

let written = 0;
/** The answer as the server announces it: a word at a time, each at its offset. */
const WORDS: readonly AnswerDelta[] = ANSWER.split(/(?<= )/).map((word) => {
  const piece = { offset: written, text: word };
  written += word.length;
  return piece;
});

const after = (answer: LiveAnswer, deltas: readonly AnswerDelta[]) => deltas.reduce(withDelta, answer);
/** The text once the first `count` words were written. */
const upTo = (count: number) => WORDS.slice(0, count).reduce((text, word) => text + word.text, '');

describe('the text of an answer written elsewhere', () => {
  it('grows with each piece that follows what is known', () => {
    expect(after(NOTHING_KNOWN, WORDS)).toEqual({ text: ANSWER, held: [] });
    expect(after(withSaved(NOTHING_KNOWN, upTo(4)), WORDS.slice(4, 9))).toEqual({ text: upTo(9), held: [] });
  });

  it('holds the pieces that start past its end until a read of the chat reaches them', () => {
    // Opened in the middle: the chat read has the first 3 words (saved a moment ago), the first
    // words heard are the 8th and on.
    const opened = withSaved(NOTHING_KNOWN, upTo(3));
    const hearing = after(opened, WORDS.slice(7, 10));
    expect(hearing).toEqual({ text: upTo(3), held: WORDS.slice(7, 10) });

    // A read saved before the 8th word was sent still leaves a gap: the pieces keep waiting.
    const tooOld = withSaved(hearing, upTo(5));
    expect(tooOld).toEqual({ text: upTo(5), held: WORDS.slice(7, 10) });

    // One saved after it joins them all; from there each word heard follows on.
    const caughtUp = withSaved(tooOld, upTo(8));
    expect(caughtUp).toEqual({ text: upTo(10), held: [] });
    let following = caughtUp;
    for (const word of WORDS.slice(10)) {
      following = withDelta(following, word);
      expect(following.held).toEqual([]);
    }
    expect(following.text).toBe(ANSWER);
  });

  it('takes from a piece only what the text read lacks, and drops one it already has', () => {
    const hearing = after(withSaved(NOTHING_KNOWN, upTo(2)), [WORDS[5]!, WORDS[6]!]);
    // A read saved halfway through the 6th word: the rest of it comes from the piece held.
    const overlapping = withSaved(hearing, upTo(5) + WORDS[5]!.text.slice(0, 2));
    expect(overlapping).toEqual({ text: upTo(7), held: [] });
    expect(withDelta(overlapping, WORDS[3]!)).toEqual(overlapping);
    expect(withSaved(overlapping, upTo(4))).toEqual(overlapping);
  });

  it('joins pieces heard out of order', () => {
    expect(after(NOTHING_KNOWN, [WORDS[2]!, WORDS[1]!, WORDS[0]!])).toEqual({ text: upTo(3), held: [] });
  });
});
