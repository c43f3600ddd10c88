// A corpus for measuring retrieval, built from a seed: documents about invented entities, each
// stating a few facts ("The founding year of Velmorant is 1847.") among filler that reuses the
// same attribute words and names other entities, so keyword overlap alone does not give the
// answer away. Every fact sentence occurs exactly once in the corpus; each question asks for one
// fact, in varied wording, and a retrieved chunk is relevant when it contains that sentence.

export interface CorpusDocument {
  readonly filename: string;
  readonly text: string;
}

export interface CorpusQuestion {
  readonly question: string;
  /** The sentence that answers it, exactly as in its document. */
  readonly fact: string;
  readonly filename: string;
}

export interface Corpus {
  readonly documents: readonly CorpusDocument[];
  readonly questions: readonly CorpusQuestion[];
  /** Total UTF-8 bytes of text. */
  readonly bytes: number;
}

const ATTRIBUTES = [
  'founding year',
  'population',
  'chief engineer',
  'maximum speed',
  'warranty period',
  'primary export',
  'annual rainfall',
  'head office',
  'operating temperature',
  'market share',
  'launch date',
  'fuel type',
  'tallest tower',
  'official language',
  'grid voltage',
  'storage capacity',
  'harbour depth',
  'patron saint',
  'mining output',
  'rail gauge',
  'school count',
  'river length',
  'mascot',
  'motto',
  'currency',
  'largest employer',
  'boiling point',
  'signature dish',
  'flight range',
  'battery life',
] as const;

const FILLER = [
  'Visitors often ask about the {attribute} of places like {entity}, but the records are scattered.',
  'The committee reviewed the {attribute} again this year and published no changes.',
  'Unlike {entity}, most towns in the valley keep their archives in the old library.',
  'Historians disagree about how the {attribute} was first measured.',
  'A survey of {entity} and its neighbours was completed after the long winter.',
  'Local guides describe the market, the river walk and the narrow streets near the square.',
  'The report compares {entity} with several regions that share its climate and trade.',
  'Engineers and planners met twice to discuss roads, bridges and the new depot.',
  'Nobody in {entity} remembers when the {attribute} was last updated in the almanac.',
  'Travel writers praise the food, the music and the friendliness of the people.',
  'The annual fair draws crowds from across the province every autumn.',
  'A small museum displays tools, maps and photographs from the early settlers.',
  'Figures on the {attribute} are compiled by the statistics office each spring.',
  'Storms damaged the harbour wall, and repairs took most of the following year.',
] as const;

const QUESTION_FORMS = [
  'What is the {attribute} of {entity}?',
  'Tell me the {attribute} of {entity}.',
  '{entity}: what {attribute} does it have?',
  'I need the {attribute} for {entity}',
  'Which {attribute} is recorded for {entity}?',
] as const;

const SYLLABLES = [
  'ka',
  'lo',
  'mi',
  'ren',
  'tor',
  'vel',
  'qua',
  'zin',
  'bar',
  'dun',
  'fel',
  'gar',
  'hol',
  'is',
  'jor',
  'mar',
  'nek',
  'ost',
  'pra',
  'sil',
  'tham',
  'ul',
  'vor',
  'wyn',
  'yst',
  'bre',
  'cal',
  'dra',
  'esk',
  'fen',
];

/** Deterministic pseudo-random numbers (mulberry32). */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export interface GenerateCorpusOptions {
  readonly documents: number;
  readonly seed?: number;
  /** Facts per document (each in its own paragraph). */
  readonly factsPerDocument?: number;
  /** Filler sentences per paragraph. */
  readonly fillerSentences?: number;
  /** Paragraphs of filler between facts. */
  readonly paragraphsBetween?: number;
  /** How many questions to keep (default one per document). */
  readonly questions?: number;
}

export function generateCorpus({
  documents: count,
  seed = 42,
  factsPerDocument = 4,
  fillerSentences = 5,
  paragraphsBetween = 1,
  questions: questionCount = count,
}: GenerateCorpusOptions): Corpus {
  const next = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const names = new Set<string>();
  const entities: string[] = [];
  while (entities.length < count) {
    const parts = 2 + Math.floor(next() * 3);
    let name = '';
    for (let index = 0; index < parts; index++) name += pick(SYLLABLES);
    // Numbered once the syllable space runs thin, so names stay unique at any size.
    if (names.has(name)) name += String(entities.length);
    names.add(name);
    entities.push(name[0]!.toUpperCase() + name.slice(1));
  }
  const documents: CorpusDocument[] = [];
  const facts: CorpusQuestion[] = [];
  let bytes = 0;
  const fill = (sentences: number) =>
    Array.from({ length: sentences }, () =>
      pick(FILLER).replace('{attribute}', pick(ATTRIBUTES)).replace('{entity}', pick(entities)),
    ).join(' ');
  for (const [index, entity] of entities.entries()) {
    const attributes = [...ATTRIBUTES].sort(() => next() - 0.5).slice(0, factsPerDocument);
    const paragraphs: string[] = [`${entity}`, fill(fillerSentences)];
    const filename = `${entity.toLowerCase()}-${index}.txt`;
    for (const attribute of attributes) {
      // Values are unique per fact, so an answer sentence occurs once in the corpus.
      const value = `${Math.floor(next() * 9000) + 1000}-${index}`;
      const fact = `The ${attribute} of ${entity} is ${value}.`;
      paragraphs.push(`${fill(2)} ${fact} ${fill(2)}`);
      for (let filler = 0; filler < paragraphsBetween; filler++) paragraphs.push(fill(fillerSentences));
      facts.push({
        question: pick(QUESTION_FORMS).replace('{attribute}', attribute).replace('{entity}', entity),
        fact,
        filename,
      });
    }
    const text = paragraphs.join('\n\n');
    bytes += Buffer.byteLength(text);
    documents.push({ filename, text });
  }
  // A spread of questions across documents.
  const questions: CorpusQuestion[] = [];
  const stride = Math.max(1, Math.floor(facts.length / questionCount));
  for (let index = 0; index < facts.length && questions.length < questionCount; index += stride) {
    questions.push(facts[(index + Math.floor(next() * stride)) % facts.length]!);
  }
  return { documents, questions, bytes };
}
