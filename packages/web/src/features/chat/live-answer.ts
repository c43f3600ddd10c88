// The text of an answer being written on another device, as this page learns it: from reading the
// chat (its text as the server saved it, up to about a second old) and from the live events, each
// a piece of the text at its offset. A piece that overlaps or follows what is known extends it;
// one that starts past its end (words were missed: the page came in the middle, or its stream
// dropped) is held until a read of the chat reaches it, so that one read catches up for good.

/** A piece of an answer's text: `text` goes at `offset` of it. */
export interface AnswerDelta {
  readonly offset: number;
  readonly text: string;
}

export interface LiveAnswer {
  /** The answer's text as far as it is known. */
  readonly text: string;
  /** Pieces that start past the end of `text`, by offset: they wait for the words between. */
  readonly held: readonly AnswerDelta[];
}

export const NOTHING_KNOWN: LiveAnswer = { text: '', held: [] };

/** `answer` with one more piece from the live events. */
export function withDelta(answer: LiveAnswer, delta: AnswerDelta): LiveAnswer {
  return joined(answer.text, [...answer.held, delta]);
}

/** `answer` with its text as just read from the server (`saved`), and the pieces that follow it. */
export function withSaved(answer: LiveAnswer, saved: string): LiveAnswer {
  // Both are beginnings of the same answer: the longer one knows more.
  return joined(saved.length >= answer.text.length ? saved : answer.text, answer.held);
}

/** `text` extended by the pieces that connect to it, in order; the others held. */
function joined(text: string, pieces: readonly AnswerDelta[]): LiveAnswer {
  let known = text;
  const held: AnswerDelta[] = [];
  for (const piece of [...pieces].sort((a, b) => a.offset - b.offset)) {
    if (piece.offset > known.length) held.push(piece);
    else if (piece.offset + piece.text.length > known.length) {
      known += piece.text.slice(known.length - piece.offset);
    }
    // Else it is known already (the text read was saved after it was sent).
  }
  return { text: known, held };
}
