// A search query as the keyword index takes it: lower-cased words of letters and digits, without
// English stop words (they match nearly every chunk, so they cost time and rank nothing), each
// once. Both indexes stem the terms themselves (FTS5 porter, Postgres 'english').

const MAX_TERMS = 32;

// A short classic list (function words only): content words, even common ones, stay searchable.
const STOP_WORDS = new Set(
  (
    'a about above after again against all am an and any are as at be because been before being below ' +
    'between both but by can could did do does doing down during each few for from further had has have ' +
    'having he her here hers herself him himself his how i if in into is it its itself just me more most ' +
    'my myself no nor not now of off on once only or other our ours ourselves out over own same she ' +
    'should so some such than that the their theirs them themselves then there these they this those ' +
    'through to too under until up very was we were what when where which while who whom why will with ' +
    'would you your yours yourself yourselves s t d ll m re ve'
  ).split(' '),
);

/** The query's search terms; stop words are kept only when the query has nothing else. */
export function queryTerms(query: string): readonly string[] {
  const words =
    query
      .normalize('NFKC')
      .toLowerCase()
      .match(/[\p{L}\p{N}]+/gu) ?? [];
  const unique = [...new Set(words)];
  const content = unique.filter((word) => !STOP_WORDS.has(word));
  return (content.length > 0 ? content : unique).slice(0, MAX_TERMS);
}
