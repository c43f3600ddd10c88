// Search on SQLite: FTS5's bm25() over the chunks' text (in two phases on a large index, see
// twoPhase), and an inverted-file index over sqlite-vec for vectors (sqlite-vector-index.ts).

import { type Kysely, sql } from 'kysely';
import { stemmer } from 'stemmer';
import { ConfigError } from '../errors.js';
import type { DatabaseSchema } from './schema.js';
import {
  assertSafeIdentifier,
  type EmbeddingSpace,
  embeddingSpaceName,
  type KeywordHit,
  type SearchIndex,
} from './search-index.js';
import {
  createSqliteVectorIndex,
  dropSqliteVectorIndex,
  type SqliteVectorIndex,
  type SqliteVectorIndexOptions,
} from './sqlite-vector-index.js';

export interface SqliteSearchIndexOptions {
  /** From this many chunks on, keyword search runs in two phases (0: always; Infinity: never). */
  readonly twoPhaseMinChunks?: number;
  /** A term in at least this many chunks (and 2% of them) counts as common. */
  readonly commonMinDocuments?: number;
  readonly vectorIndexOptions?: SqliteVectorIndexOptions;
}

export function createSqliteSearchIndex(
  db: Kysely<DatabaseSchema>,
  {
    twoPhaseMinChunks = 20_000,
    commonMinDocuments = 500,
    vectorIndexOptions = {},
  }: SqliteSearchIndexOptions = {},
): SearchIndex {
  let space: EmbeddingSpace | null = null;
  let vectorIndex: SqliteVectorIndex | null = null;

  function requireSpace(): EmbeddingSpace {
    if (!space) throw new Error('no embedding space in use: call useEmbeddingSpace first');
    return space;
  }

  function requireVectors(): SqliteVectorIndex {
    if (!vectorIndex) throw new Error('no embedding space in use: call useEmbeddingSpace first');
    return vectorIndex;
  }

  // FTS5 computes bm25() in C, but it counts every matching row of every term, and scores every
  // row that matches any term: an OR with a term common in 100k chunks costs tens of ms. In a
  // large index the search therefore runs in two phases (see keywordSearch); the constants:
  // A term in at least this share of chunks (and `commonMinDocuments`) counts as common.
  const COMMON_FRACTION = 0.02;
  const TWO_PHASE_CANDIDATES = 200;
  // Results whose order the two phases guarantee to be bm25's (see the check in twoPhase).
  const EXACT_RESULTS = 5;
  // FTS5's bm25() parameters, for scoring common terms the same way in JS.
  const K1 = 1.2;
  const B = 0.75;
  let statsCache: { rows: number; averageLength: number; at: number } | undefined;
  const frequencyCache = new Map<string, { count: number; at: number }>();
  // Document frequencies move slowly; counting a common term's costs milliseconds.
  const CACHE_MS = 60_000;

  /** Rows and mean row length in tokens, as FTS5 keeps them (its "averages" record). */
  async function indexStats(): Promise<{ rows: number; averageLength: number }> {
    if (statsCache && Date.now() - statsCache.at < CACHE_MS) return statsCache;
    const { rows } = await sql<{
      block: Uint8Array | null;
    }>`select block from chunks_fts_data where id = 1`.execute(db);
    const block = rows[0]?.block;
    let count = 0;
    let tokens = 0;
    if (block && block.length > 0) {
      const first = readVarint(block, 0);
      count = first.value;
      tokens = readVarint(block, first.next).value;
    }
    statsCache = { rows: count, averageLength: count > 0 ? tokens / count : 1, at: Date.now() };
    return statsCache;
  }

  /** Chunks holding the term, counted up to `cap` (so a common term costs no more than that). */
  async function documentFrequency(term: string, cap: number): Promise<number> {
    const key = `${cap}\n${term}`;
    const cached = frequencyCache.get(key);
    if (cached && Date.now() - cached.at < CACHE_MS) return cached.count;
    const { rows } = await sql<{ count: number }>`
      select count(*) as count from (select rowid from chunks_fts where chunks_fts match ${`"${term}"`} limit ${cap})`.execute(
      db,
    );
    const count = Number(rows[0]?.count ?? 0);
    if (frequencyCache.size > 10_000) frequencyCache.clear();
    frequencyCache.set(key, { count, at: Date.now() });
    return count;
  }

  /**
   * Two phases: candidates are the chunks holding a rarer term, ranked by FTS5's bm25() over
   * those terms (cheap: short posting lists); the common terms' bm25 contributions are then
   * added in JS from the candidates' text, with FTS5's own statistics (rows, mean length,
   * document frequencies, row lengths) and the same Porter stemming. A chunk holding none of the
   * rare terms could only score the small weight of common words, so it is not a candidate.
   */
  async function twoPhase(
    terms: readonly string[],
    scope: { vectorStoreIds: readonly string[]; fileIds: readonly string[] | undefined },
    limit: number,
  ): Promise<KeywordHit[] | null> {
    const stats = await indexStats();
    if (terms.length < 2 || stats.rows < twoPhaseMinChunks) return null;
    const cap = Math.max(commonMinDocuments, Math.floor(stats.rows * COMMON_FRACTION));
    const rare: string[] = [];
    const common: string[] = [];
    for (const term of terms) ((await documentFrequency(term, cap)) < cap ? rare : common).push(term);
    if (rare.length === 0 || common.length === 0) return null;
    const candidates = await matchInScope(rare, scope, Math.max(TWO_PHASE_CANDIDATES, limit * 4));
    // No chunk holds a rare term (a word of the question that is nowhere): rank by the rest.
    if (candidates.length === 0) return null;
    const weights = new Map<string, number>();
    for (const term of common) {
      const frequency = await documentFrequency(term, Number.MAX_SAFE_INTEGER);
      // FTS5: idf = ln((N - n + 0.5) / (n + 0.5)), at least 1e-6.
      weights.set(
        stemmer(term),
        Math.max(1e-6, Math.log((stats.rows - frequency + 0.5) / (frequency + 0.5))),
      );
    }
    const ids = candidates.map((candidate) => candidate.chunkId);
    const { rows } = await sql<{ id: number; text: string; sz: Uint8Array | null }>`
      select c.id as id, c.text as text, d.sz as sz
      from chunks c left join chunks_fts_docsize d on d.id = c.id
      where c.id in (${sql.join(ids)})`.execute(db);
    const byId = new Map(rows.map((row) => [Number(row.id), row]));
    const scored = candidates.map((candidate) => {
      const row = byId.get(candidate.chunkId);
      if (!row) return candidate;
      const length = row.sz && row.sz.length > 0 ? readVarint(row.sz, 0).value : stats.averageLength;
      const frequencies = termFrequencies(row.text, weights);
      let score = candidate.score;
      for (const [stem, idf] of weights) {
        const tf = frequencies.get(stem) ?? 0;
        if (tf > 0)
          score += (idf * (tf * (K1 + 1))) / (tf + K1 * (1 - B + (B * length) / stats.averageLength));
      }
      return { chunkId: candidate.chunkId, score };
    });
    scored.sort((left, right) => right.score - left.score);
    // MaxScore's safety check: a chunk holding only common terms scores at most the sum of their
    // weights × (k1 + 1). When the first results beat that, they are exactly bm25's first results;
    // otherwise (the common terms weigh too much here) rank every match the slow way.
    const bound = [...weights.values()].reduce((sum, idf) => sum + idf * (K1 + 1), 0);
    const checked = scored[Math.min(limit, EXACT_RESULTS, scored.length) - 1];
    if (!checked || checked.score < bound) return null;
    return scored.slice(0, limit);
  }

  async function matchInScope(
    terms: readonly string[],
    {
      vectorStoreIds,
      fileIds,
    }: { vectorStoreIds: readonly string[]; fileIds: readonly string[] | undefined },
    limit: number,
  ) {
    // Terms are letters and digits only (see query-terms.ts); quoting makes each a literal token.
    const match = terms.map((term) => `"${term}"`).join(' OR ');
    const { rows } = await sql<{ id: number; rank: number }>`
      select c.id as id, chunks_fts.rank as rank
      from chunks_fts join chunks c on c.id = chunks_fts.rowid
      where chunks_fts match ${match}
        and c.vector_store_id in (${sql.join([...vectorStoreIds])})
        ${fileIds === undefined ? sql`` : sql`and c.file_id in (${sql.join([...fileIds])})`}
      order by chunks_fts.rank
      limit ${limit}`.execute(db);
    // FTS5's rank is bm25() negated (lower is better); flip it so higher is better.
    return rows.map((row) => ({ chunkId: Number(row.id), score: -row.rank }));
  }

  return {
    dialect: 'sqlite',
    get space() {
      return space;
    },

    async keywordSearch({ vectorStoreIds, terms, limit, fileIds = undefined }) {
      if (vectorStoreIds.length === 0 || terms.length === 0) return [];
      if (fileIds !== undefined && fileIds.length === 0) return [];
      const scope = { vectorStoreIds, fileIds };
      return (await twoPhase(terms, scope, limit)) ?? matchInScope(terms, scope, limit);
    },

    async useEmbeddingSpace({ model, dimensions }) {
      try {
        await sql`select vec_version()`.execute(db);
      } catch {
        throw new ConfigError(
          'Vector search needs the sqlite-vec extension, which could not be loaded on this platform. ' +
            'Unset ATELIER_EMBEDDING_MODEL to search by keywords only.',
        );
      }
      if (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > 8192) {
        throw new ConfigError(
          `The embedding model ${model} returned ${dimensions} dimensions; expected 1 to 8192.`,
        );
      }
      const name = assertSafeIdentifier(embeddingSpaceName(model, dimensions, VECTOR_LAYOUT));
      const index = createSqliteVectorIndex(db, { name, dimensions }, vectorIndexOptions);
      await index.create();
      const existing = await db.selectFrom('embedding_spaces').selectAll().execute();
      for (const other of existing) {
        if (other.name === name) continue;
        // The same model in an earlier table layout: its vectors are carried over, not re-embedded.
        if (other.model === model && other.dimensions === dimensions) {
          await carryOverVectors(db, { from: assertSafeIdentifier(other.name), to: name, index });
        }
        await dropSqliteVectorIndex(db, other.name);
        await db.deleteFrom('embedding_spaces').where('name', '=', other.name).execute();
      }
      await db
        .insertInto('embedding_spaces')
        .values({ name, model, dimensions, created_at: Math.floor(Date.now() / 1000) })
        .onConflict((conflict) => conflict.column('name').doNothing())
        .execute();
      space = { name, model, dimensions };
      vectorIndex = index;
      return space;
    },

    writeVectors: (executor, entries) => requireVectors().write(executor, entries),
    vectorSearch: (params) => requireVectors().search(params),
    exactVectorSearch: (params) => requireVectors().search({ ...params, exact: true }),
    maintain: async () => {
      await vectorIndex?.maintain();
    },

    async chunksWithoutVectors({ afterId, limit }) {
      const { name } = requireSpace();
      const { rows } = await sql<{ id: number; vector_store_id: string; text: string }>`
        select c.id, c.vector_store_id, c.text from chunks c
        where c.id > ${afterId}
          and not exists (select 1 from ${sql.table(name)} v where v.chunk_id = c.id)
        order by c.id limit ${limit}`.execute(db);
      return rows.map((row) => ({ id: Number(row.id), vectorStoreId: row.vector_store_id, text: row.text }));
    },
  };
}

// The vector tables' layout (see sqlite-vector-index.ts); 'ivf1' was the clustered one before.
const VECTOR_LAYOUT = 'sq8';

/** Copies an earlier layout's vectors (every vec0 table has chunk_id and embedding) into `to`. */
async function carryOverVectors(
  db: Kysely<DatabaseSchema>,
  { from, to, index }: { from: string; to: string; index: SqliteVectorIndex },
): Promise<void> {
  const { rows } = await sql<{ name: string }>`
    select name from sqlite_master where name = ${from}`.execute(db);
  if (rows.length === 0) return;
  for (let after = 0; ; ) {
    const batch = await db.transaction().execute(async (trx) => {
      const { rows: vectors } = await sql<{
        chunk_id: number;
        vector_store_id: string;
        embedding: Uint8Array;
      }>`
        select c.id as chunk_id, c.vector_store_id as vector_store_id, v.embedding as embedding
        from chunks c join ${sql.table(from)} v on v.chunk_id = c.id
        where c.id > ${after}
          and not exists (select 1 from ${sql.table(to)} t where t.chunk_id = c.id)
        order by c.id limit 1000`.execute(trx);
      await index.write(
        trx,
        vectors.map((row) => ({
          chunkId: Number(row.chunk_id),
          vectorStoreId: row.vector_store_id,
          embedding: new Float32Array(
            row.embedding.buffer.slice(
              row.embedding.byteOffset,
              row.embedding.byteOffset + row.embedding.byteLength,
            ),
          ),
        })),
      );
      return vectors;
    });
    if (batch.length === 0) return;
    after = Number(batch[batch.length - 1]!.chunk_id);
  }
}

/** SQLite's varint (as FTS5 stores counts): big-endian 7-bit groups, the ninth byte whole. */
function readVarint(bytes: Uint8Array, offset: number): { value: number; next: number } {
  let value = 0;
  for (let index = 0; index < 9; index++) {
    const byte = bytes[offset + index] ?? 0;
    if (index === 8) return { value: value * 256 + byte, next: offset + 9 };
    value = value * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) return { value, next: offset + index + 1 };
  }
  return { value, next: offset + 9 };
}

/**
 * How often each stem of `weights` occurs in `text` as FTS5 would count it: words of letters and
 * digits, lower-cased, stemmed by Porter. Porter rewrites only endings, so a word with one of our
 * stems starts with the stem's first three letters: those places are found with indexOf (fast)
 * and only the words there are stemmed. (Diacritics are not folded here as unicode61 folds them;
 * a common English stem rarely meets one.)
 */
function termFrequencies(text: string, weights: ReadonlyMap<string, number>): Map<string, number> {
  const counts = new Map<string, number>();
  const lower = text.toLowerCase();
  const heads = new Set([...weights.keys()].map((stem) => stem.slice(0, 3)));
  const seen = new Set<number>();
  for (const head of heads) {
    for (let at = lower.indexOf(head); at >= 0; at = lower.indexOf(head, at + 1)) {
      if (at > 0 && WORD.test(lower[at - 1]!)) continue;
      if (seen.has(at)) continue;
      seen.add(at);
      let end = at + head.length;
      while (end < lower.length && WORD.test(lower[end]!)) end++;
      const stem = stemmer(lower.slice(at, end));
      if (weights.has(stem)) counts.set(stem, (counts.get(stem) ?? 0) + 1);
    }
  }
  return counts;
}

const WORD = /[\p{L}\p{N}]/u;
