// Search on PostgreSQL: the chunks' generated tsvector (GIN-indexed) ranked BM25-style, and a
// pgvector table per embedding model with an HNSW index. pgvector lives in one schema of the
// database (public unless an admin put it elsewhere), so its type and operator are named with
// that schema: Atelier's own tables may sit in another schema on the search_path.

import { type Kysely, sql } from 'kysely';
import { ConfigError } from '../errors.js';
import { describeError } from './describe-error.js';
import type { DatabaseSchema } from './schema.js';
import {
  assertSafeIdentifier,
  type EmbeddingSpace,
  embeddingSpaceName,
  type SearchIndex,
} from './search-index.js';

// pgvector's HNSW index takes vectors of up to 2000 dimensions; past that, searches scan exactly.
const HNSW_MAX_DIMENSIONS = 2000;

/**
 * Stores of up to this many vectors (together) are searched exactly: a scan of so few costs a few
 * milliseconds, and the HNSW graph, shared by every store, can miss a small store's neighbours
 * among many other stores' vectors (its filtered scan gives up after pgvector's max_scan_tuples).
 */
const EXACT_MAX_VECTORS = 10_000;

export function createPostgresSearchIndex(
  db: Kysely<DatabaseSchema>,
  { exactMaxVectors = EXACT_MAX_VECTORS }: { readonly exactMaxVectors?: number } = {},
): SearchIndex {
  let space: (EmbeddingSpace & { readonly schema: string }) | null = null;

  function requireSpace() {
    if (!space) throw new Error('no embedding space in use: call useEmbeddingSpace first');
    return space;
  }

  const literal = (embedding: Float32Array) => `[${Array.from(embedding).join(',')}]`;

  async function search(
    {
      vectorStoreIds,
      embedding,
      limit,
    }: { vectorStoreIds: readonly string[]; embedding: Float32Array; limit: number },
    exact: boolean,
  ) {
    const { name, schema } = requireSpace();
    if (vectorStoreIds.length === 0) return [];
    if (!exact && exactMaxVectors > 0) {
      const stores = [...vectorStoreIds].sort();
      const vectors = await cachedCount(`vectors\n${name}\n${stores.join(',')}`, async () => {
        const { rows } = await sql<{ n: number }>`
          select count(*) as n from ${sql.table(name)} where vector_store_id in (${sql.join(stores)})`.execute(
          db,
        );
        return Number(rows[0]?.n ?? 0);
      });
      exact = vectors <= exactMaxVectors;
    }
    const vectorType = sql.raw(`${schema}.vector`);
    const distance = sql.raw(`OPERATOR(${schema}.<=>)`);
    return db.transaction().execute(async (trx) => {
      if (exact) {
        // Every vector of the stores compared (small stores, and the reference for recall).
        await sql`set local enable_indexscan = off`.execute(trx);
      } else {
        // A wide candidate list (pgvector's default of 40 loses true neighbours on hard data), and
        // (pgvector ≥ 0.8) keep scanning the graph when the store filter discards many of them.
        await sql`select set_config('hnsw.ef_search', ${String(Math.min(1000, Math.max(400, limit * 8)))}, true)`.execute(
          trx,
        );
        await sql`select set_config('hnsw.iterative_scan', 'relaxed_order', true)`.execute(trx);
      }
      const { rows } = await sql<{ chunk_id: number; distance: number }>`
        select chunk_id, embedding ${distance} ${literal(embedding)}::${vectorType} as distance
        from ${sql.table(name)}
        where vector_store_id in (${sql.join([...vectorStoreIds])})
        order by embedding ${distance} ${literal(embedding)}::${vectorType}
        limit ${limit}`.execute(trx);
      // relaxed_order may return neighbours slightly out of order.
      return rows
        .map((row) => ({ chunkId: Number(row.chunk_id), distance: Number(row.distance) }))
        .sort((left, right) => left.distance - right.distance);
    });
  }

  // Statistics move slowly, and counting a common term costs a scan: a counted value is used for
  // a minute, then recounted in the background while the old one is still answered (so no search
  // waits for a recount, and a busy term is counted about once a minute).
  const statisticsCache = new Map<string, { value: number; at: number; refreshing: boolean }>();
  const CACHE_MS = 60_000;
  // Ranking reads each candidate's tsvector: two phases pay off early here.
  const TWO_PHASE_MIN_CHUNKS = 2_000;
  const COMMON_FRACTION = 0.02;
  const COMMON_MIN_DOCUMENTS = 500;
  // BM25's parameters, as FTS5 uses them on SQLite.
  const K1 = 1.2;
  const B = 0.75;
  // Results whose order the two phases guarantee to be the one-phase order (see keywordSearch).
  const EXACT_RESULTS = 5;

  async function cachedCount(key: string, count: () => Promise<number>): Promise<number> {
    const cached = statisticsCache.get(key);
    if (cached) {
      if (Date.now() - cached.at >= CACHE_MS && !cached.refreshing) {
        cached.refreshing = true;
        count().then(
          (value) => statisticsCache.set(key, { value, at: Date.now(), refreshing: false }),
          () => {
            cached.refreshing = false;
          },
        );
      }
      return cached.value;
    }
    const value = await count();
    if (statisticsCache.size > 10_000) statisticsCache.clear();
    statisticsCache.set(key, { value, at: Date.now(), refreshing: false });
    return value;
  }

  /** Chunks in the stores, their mean length in tokens, and how many hold each term (by the GIN index). */
  async function statistics(stores: readonly string[], terms: readonly string[]) {
    const scope = stores.join(',');
    const inStores = sql.join([...stores]);
    const total = await cachedCount(`${scope}\n`, async () => {
      const { rows } = await sql<{ n: number }>`
        select count(*) as n from chunks where vector_store_id in (${inStores})`.execute(db);
      return Number(rows[0]?.n ?? 0);
    });
    const averageLength = await cachedCount(`${scope}\n\naverage`, async () => {
      const { rows } = await sql<{ average: number | null }>`
        select avg(token_count)::float8 as average from chunks where vector_store_id in (${inStores})`.execute(
        db,
      );
      return Number(rows[0]?.average ?? 0);
    });
    const frequencies = new Map<string, number>();
    for (const term of terms) {
      frequencies.set(
        term,
        await cachedCount(`${scope}\n${term}`, async () => {
          const { rows } = await sql<{ n: number }>`
            select count(*) as n from chunks
            where vector_store_id in (${inStores}) and tsv @@ to_tsquery('english', ${term})`.execute(db);
          return Number(rows[0]?.n ?? 0);
        }),
      );
    }
    return { total, averageLength: averageLength > 0 ? averageLength : 1, frequencies };
  }

  /**
   * Chunks matching any of `match`, scored by BM25 over all `terms`, best first. A term's
   * frequency in a chunk is read back from ts_rank without normalisation, which for one lexeme
   * whose positions all weigh 0.1 (to_tsvector's weight D) is 0.1 × Σ_{j≤tf} 1/j² / 1.64493406685
   * (PostgreSQL's tsrank.c): tf = round(1 / (π²/6 − Σ) − ½) inverts it exactly for every tf a
   * tsvector holds (up to 255 positions). The length is the chunk's token count. Each candidate's tsvector is detoasted
   * once (the `||` makes an in-memory copy), not once per term.
   */
  async function rank({
    stores,
    fileIds,
    terms,
    weights,
    averageLength,
    match,
    limit,
  }: {
    stores: readonly string[];
    fileIds: readonly string[] | undefined;
    terms: readonly string[];
    weights: readonly number[];
    averageLength: number;
    match: readonly string[];
    limit: number;
  }) {
    const frequencies = sql.join(
      terms.map(
        (term, index) =>
          sql`round(1 / greatest(1.64493406685 - 16.4493406685 * ts_rank(v, to_tsquery('english', ${term}), 0)::float8, 1e-9) - 0.5) as ${sql.ref(`tf${index}`)}`,
      ),
    );
    const score = sql.join(
      terms.map((_, index) => {
        const tf = sql.ref(`tf${index}`);
        return sql`${weights[index]!}::float8 * ${tf} * ${K1 + 1}::float8 / (${tf} + norm)`;
      }),
      sql` + `,
    );
    const fileFilter = fileIds === undefined ? sql`` : sql`and file_id in (${sql.join([...fileIds])})`;
    const { rows } = await sql<{ id: number; score: number }>`
      select id, (${score}) as score from (
        select id, ${K1}::float8 * (${1 - B}::float8 + ${B / averageLength}::float8 * token_count) as norm,
          ${frequencies}
        from (
          select id, token_count, tsv || ''::tsvector as v from chunks
          where vector_store_id in (${sql.join([...stores])}) ${fileFilter}
            and tsv @@ to_tsquery('english', ${match.join(' | ')})
          offset 0
        ) as detoasted
        offset 0
      ) as counted
      order by score desc, id
      limit ${limit}`.execute(db);
    return rows.map((row) => ({ chunkId: Number(row.id), score: Number(row.score) }));
  }

  return {
    dialect: 'postgres',
    get space() {
      return space;
    },

    async keywordSearch({ vectorStoreIds, terms, limit, fileIds = undefined }) {
      if (vectorStoreIds.length === 0 || terms.length === 0) return [];
      if (fileIds !== undefined && fileIds.length === 0) return [];
      const stores = [...vectorStoreIds].sort();
      const { total, averageLength, frequencies } = await statistics(stores, terms);
      // BM25's idf as Lucene has it (never negative), counted among the searched chunks.
      const weights = terms.map((term) => {
        // Counted at different moments (cached), a frequency may exceed the total a little.
        const frequency = Math.min(frequencies.get(term) ?? 0, total);
        return Math.log(1 + (total - frequency + 0.5) / (frequency + 0.5));
      });
      // As on SQLite, a large index is searched in two phases: candidates are the chunks holding a
      // rarer term (few: the GIN index finds them, and only they are ranked), scored over every
      // term. A chunk holding common terms only scores at most Σ idf × (k1 + 1) (MaxScore); when
      // the first results beat that, they are exactly the one-phase results.
      const common = terms.filter(
        (term) => (frequencies.get(term) ?? 0) >= Math.max(COMMON_MIN_DOCUMENTS, total * COMMON_FRACTION),
      );
      const rare = terms.filter((term) => !common.includes(term));
      const ranking = { stores, fileIds, terms, weights, averageLength };
      if (total >= TWO_PHASE_MIN_CHUNKS && rare.length > 0 && common.length > 0) {
        const candidates = await rank({ ...ranking, match: rare, limit });
        const bound = terms.reduce(
          (sum, term, index) => sum + (common.includes(term) ? weights[index]! * (K1 + 1) : 0),
          0,
        );
        const checked = candidates[Math.min(limit, EXACT_RESULTS, candidates.length) - 1];
        if (checked && checked.score >= bound) return candidates;
      }
      return rank({ ...ranking, match: terms, limit });
    },

    async useEmbeddingSpace({ model, dimensions }) {
      if (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > 16000) {
        throw new ConfigError(
          `The embedding model ${model} returned ${dimensions} dimensions; expected 1 to 16000.`,
        );
      }
      const schema = await ensurePgvector(db);
      // 'ivf1' is only the label the first tables were named with; kept so they keep their names.
      const name = assertSafeIdentifier(embeddingSpaceName(model, dimensions, 'ivf1'));
      const existing = await db.selectFrom('embedding_spaces').selectAll().execute();
      for (const other of existing) {
        if (other.name === name) continue;
        await sql`drop table if exists ${sql.table(assertSafeIdentifier(other.name))}`.execute(db);
        await db.deleteFrom('embedding_spaces').where('name', '=', other.name).execute();
      }
      await sql`create table if not exists ${sql.table(name)} (
        chunk_id bigint primary key references chunks(id) on delete cascade,
        vector_store_id text not null,
        embedding ${sql.raw(`${schema}.vector(${dimensions})`)} not null
      )`.execute(db);
      await sql`create index if not exists ${sql.raw(`${name}_store_idx`)} on ${sql.table(name)} (vector_store_id)`.execute(
        db,
      );
      if (dimensions <= HNSW_MAX_DIMENSIONS) {
        await sql`create index if not exists ${sql.raw(`${name}_hnsw_idx`)} on ${sql.table(name)}
          using hnsw (embedding ${sql.raw(`${schema}.vector_cosine_ops`)}) with (m = 16, ef_construction = 128)`.execute(
          db,
        );
      }
      await db
        .insertInto('embedding_spaces')
        .values({ name, model, dimensions, created_at: Math.floor(Date.now() / 1000) })
        .onConflict((conflict) => conflict.column('name').doNothing())
        .execute();
      space = { name, model, dimensions, schema };
      return space;
    },

    async writeVectors(executor, entries) {
      const { name, dimensions, schema } = requireSpace();
      for (let start = 0; start < entries.length; start += 100) {
        const slice = entries.slice(start, start + 100);
        for (const entry of slice) {
          if (entry.embedding.length !== dimensions) {
            throw new Error(`embedding has ${entry.embedding.length} dimensions, the space ${dimensions}`);
          }
        }
        const values = sql.join(
          slice.map(
            (entry) =>
              sql`(${entry.chunkId}::bigint, ${entry.vectorStoreId}, ${literal(entry.embedding)}::${sql.raw(`${schema}.vector`)})`,
          ),
        );
        // Only chunks that still exist (the foreign key would fail the whole statement otherwise).
        await sql`insert into ${sql.table(name)} (chunk_id, vector_store_id, embedding)
          select v.chunk_id, v.vector_store_id, v.embedding from (values ${values}) as v(chunk_id, vector_store_id, embedding)
          where exists (select 1 from chunks where chunks.id = v.chunk_id)
          on conflict (chunk_id) do update set embedding = excluded.embedding`.execute(executor);
      }
    },

    // pgvector's HNSW index needs no upkeep of ours.
    maintain: async () => {},

    vectorSearch: (params) => search(params, false),
    exactVectorSearch: (params) => search(params, true),

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

/** The schema pgvector is installed in, installing it into public when it is missing. */
async function ensurePgvector(db: Kysely<DatabaseSchema>): Promise<string> {
  const find = async () => {
    const { rows } = await sql<{ schema: string }>`
      select n.nspname as schema from pg_extension e join pg_namespace n on n.oid = e.extnamespace
      where e.extname = 'vector'`.execute(db);
    return rows[0]?.schema;
  };
  let schema = await find();
  if (schema === undefined) {
    try {
      await sql`create extension if not exists vector schema public`.execute(db);
    } catch (error) {
      // Two processes creating it at once: one wins, the other sees it exist.
      schema = await find();
      if (schema === undefined) {
        throw new ConfigError(
          `Vector search on PostgreSQL needs the pgvector extension (${describeError(error)}). ` +
            'Install it (Debian: build it from the pgvector source package, as .ci/run does) and run ' +
            '"create extension vector" as a superuser, or unset ATELIER_EMBEDDING_MODEL to search by keywords only.',
        );
      }
    }
    schema ??= await find();
  }
  if (!schema || !/^[a-z_][a-z0-9_]*$/.test(schema)) {
    throw new ConfigError(`pgvector is installed in a schema whose name Atelier cannot use: ${schema}`);
  }
  return schema;
}
