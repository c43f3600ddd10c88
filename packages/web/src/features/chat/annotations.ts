// An answer's annotations in its Markdown: a citation (a file_search result it used, marked
// `【4:0†notes.txt】`) becomes a link the page renders as a chip naming the file; a file the code
// interpreter wrote (`sandbox:/mnt/data/…`) becomes a link that downloads it. The links use the
// app's own `atelier:` scheme, which nothing but the page's link renderer turns into anything.
import type { Annotation, ChatNode } from './chat-api';

export const CITATION_LINK = 'atelier:citation/';
export const FILE_LINK = 'atelier:file/';

/** `text` with its annotations made into links; annotations past its end (still streaming) wait. */
export function linkAnnotations(text: string, annotations: readonly Annotation[]): string {
  const usable = annotations
    .filter(
      (annotation) =>
        annotation.startIndex >= 0 &&
        annotation.endIndex > annotation.startIndex &&
        annotation.endIndex <= text.length,
    )
    .sort((a, b) => b.startIndex - a.startIndex);
  let result = text;
  let limit = text.length;
  for (const annotation of usable) {
    // Overlapping annotations: the later one wins, the earlier stays text.
    if (annotation.endIndex > limit) continue;
    const before = result.slice(0, annotation.startIndex);
    const after = result.slice(annotation.endIndex);
    const id = encodeURIComponent(annotation.fileId);
    let replacement: string;
    if (annotation.type === 'file_citation') {
      replacement = ` [${escapeLabel(citedName(annotation.text))}](${CITATION_LINK}${id})`;
    } else if (before.endsWith('](')) {
      // Inside a Markdown link already: only its target changes.
      replacement = `${FILE_LINK}${id}`;
    } else {
      replacement = `[${escapeLabel(annotation.text.split('/').at(-1) ?? annotation.text)}](${FILE_LINK}${id})`;
    }
    result = before + replacement + after;
    limit = annotation.startIndex;
  }
  return result;
}

/** The file name in a citation mark (`【4:0†notes.txt】` → `notes.txt`). */
function citedName(mark: string): string {
  const match = /†([^】]*)】?$/.exec(mark);
  return match?.[1]?.trim() || mark;
}

function escapeLabel(text: string): string {
  return text.replace(/[[\]\\]/g, (character) => `\\${character}`);
}

/** What copying an answer gives: its text without citation marks. */
export function plainText(node: ChatNode): string {
  return node.parts
    .flatMap((part) => {
      if (part.type !== 'text') return [];
      let text = part.text;
      const marks = part.annotations
        .filter((annotation) => annotation.type === 'file_citation' && annotation.endIndex <= text.length)
        .sort((a, b) => b.startIndex - a.startIndex);
      for (const mark of marks) text = text.slice(0, mark.startIndex) + text.slice(mark.endIndex);
      return [text];
    })
    .join('\n\n')
    .trim();
}
