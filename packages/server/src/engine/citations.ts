// Turns what a run's tools produced into annotations on its answer: `file_citation` for the
// 【turn:index†source】 marks of file_search results (added at the end, for the best files, when
// the model used results without citing them), and `file_path` for the sandbox:/mnt/data/… links
// to files the code interpreter wrote.

import type { Annotation, FileSearchResult } from '../storage/assistants-domain.js';
import { citationMark } from './run-tools.js';

export interface SearchTurn {
  readonly turn: number;
  readonly results: readonly FileSearchResult[];
}

export interface Annotated {
  /** Text appended to the answer (the citation marks it lacked), possibly empty. */
  readonly suffix: string;
  readonly annotations: readonly Annotation[];
}

const MARK = /【(\d+):(\d+)†([^】]*)】/g;
const SANDBOX_LINK = /sandbox:(\/mnt\/data\/[^\s)\]"'<>]+)/g;
const QUOTE_CHARS = 500;
const MAX_APPENDED_CITATIONS = 3;

export function annotate({
  text,
  searches,
  files,
}: {
  text: string;
  searches: readonly SearchTurn[];
  files: readonly { readonly fileId: string; readonly path: string }[];
}): Annotated {
  const annotations: Annotation[] = [];
  const resultAt = (turn: number, index: number) =>
    searches.find((search) => search.turn === turn)?.results[index];
  for (const match of text.matchAll(MARK)) {
    const result = resultAt(Number(match[1]), Number(match[2]));
    if (!result) continue;
    annotations.push(citation(match[0], match.index, result));
  }
  let suffix = '';
  if (annotations.length === 0) {
    // The model used the files without citing them: cite the best passage of each best file.
    const best = new Map<string, { turn: number; index: number; result: FileSearchResult }>();
    for (const search of searches) {
      search.results.forEach((result, index) => {
        const known = best.get(result.fileId);
        if (!known || result.score > known.result.score)
          best.set(result.fileId, { turn: search.turn, index, result });
      });
    }
    const chosen = [...best.values()]
      .sort((a, b) => b.result.score - a.result.score)
      .slice(0, MAX_APPENDED_CITATIONS);
    let position = text.length;
    for (const { turn, index, result } of chosen) {
      const mark = citationMark(turn, index, result.fileName);
      const separator = suffix === '' && text !== '' && !/\s$/.test(text) ? ' ' : '';
      position += separator.length;
      annotations.push(citation(mark, position, result));
      suffix += separator + mark;
      position += mark.length;
    }
  }
  const full = text + suffix;
  for (const match of full.matchAll(SANDBOX_LINK)) {
    const file = files.find((candidate) => candidate.path === match[1]);
    if (!file) continue;
    annotations.push({
      type: 'file_path',
      text: match[0],
      fileId: file.fileId,
      startIndex: match.index,
      endIndex: match.index + match[0].length,
    });
  }
  annotations.sort((a, b) => a.startIndex - b.startIndex);
  return { suffix, annotations };
}

function citation(mark: string, start: number, result: FileSearchResult): Annotation {
  return {
    type: 'file_citation',
    text: mark,
    fileId: result.fileId,
    quote: result.text.trim().slice(0, QUOTE_CHARS),
    startIndex: start,
    endIndex: start + mark.length,
  };
}
