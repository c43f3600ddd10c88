// All repositories over one Kysely instance, and a way to run several of their calls atomically.

import type { Kysely } from 'kysely';
import type { Clock } from './clock.js';
import { inTransaction } from './in-transaction.js';
import {
  type AccountPreferencesRepository,
  createAccountPreferencesRepository,
} from './repositories/account-preferences-repository.js';
import { type AccountsRepository, createAccountsRepository } from './repositories/accounts-repository.js';
import { type ApiKeysRepository, createApiKeysRepository } from './repositories/api-keys-repository.js';
import {
  type AssistantsRepository,
  createAssistantsRepository,
} from './repositories/assistants-repository.js';
import { type ChatsRepository, createChatsRepository } from './repositories/chats-repository.js';
import { type ChunksRepository, createChunksRepository } from './repositories/chunks-repository.js';
import { createFileTextsRepository, type FileTextsRepository } from './repositories/file-texts-repository.js';
import { createFilesRepository, type FilesRepository } from './repositories/files-repository.js';
import { createGptsRepository, type GptsRepository } from './repositories/gpts-repository.js';
import { createMessagesRepository, type MessagesRepository } from './repositories/messages-repository.js';
import {
  createModelRegistryRepository,
  type ModelRegistryRepository,
} from './repositories/model-registry-repository.js';
import { createRunStepsRepository, type RunStepsRepository } from './repositories/run-steps-repository.js';
import { createRunsRepository, type RunsRepository } from './repositories/runs-repository.js';
import { createSessionsRepository, type SessionsRepository } from './repositories/sessions-repository.js';
import { createThreadsRepository, type ThreadsRepository } from './repositories/threads-repository.js';
import {
  createVectorStoreFileBatchesRepository,
  type VectorStoreFileBatchesRepository,
} from './repositories/vector-store-file-batches-repository.js';
import {
  createVectorStoreFilesRepository,
  type VectorStoreFilesRepository,
} from './repositories/vector-store-files-repository.js';
import {
  createVectorStoresRepository,
  type VectorStoresRepository,
} from './repositories/vector-stores-repository.js';
import {
  createWorkspacesRepository,
  type WorkspacesRepository,
} from './repositories/workspaces-repository.js';
import type { DatabaseSchema } from './schema.js';

export interface Repositories {
  readonly accounts: AccountsRepository;
  readonly workspaces: WorkspacesRepository;
  readonly apiKeys: ApiKeysRepository;
  readonly sessions: SessionsRepository;
  readonly accountPreferences: AccountPreferencesRepository;
  readonly chats: ChatsRepository;
  readonly files: FilesRepository;
  readonly fileTexts: FileTextsRepository;
  readonly vectorStores: VectorStoresRepository;
  readonly vectorStoreFiles: VectorStoreFilesRepository;
  readonly vectorStoreFileBatches: VectorStoreFileBatchesRepository;
  readonly chunks: ChunksRepository;
  readonly assistants: AssistantsRepository;
  readonly threads: ThreadsRepository;
  readonly messages: MessagesRepository;
  readonly runs: RunsRepository;
  readonly runSteps: RunStepsRepository;
  readonly modelRegistry: ModelRegistryRepository;
  readonly gpts: GptsRepository;
  /**
   * Runs `work` in one transaction, with repositories bound to it: all of its writes commit
   * together or none do. Inside a transaction already, it joins that one.
   */
  transaction<Result>(work: (repositories: Repositories) => Promise<Result>): Promise<Result>;
}

export function createRepositories(db: Kysely<DatabaseSchema>, options: { now?: Clock } = {}): Repositories {
  return {
    accounts: createAccountsRepository(db, options),
    workspaces: createWorkspacesRepository(db, options),
    apiKeys: createApiKeysRepository(db, options),
    sessions: createSessionsRepository(db, options),
    accountPreferences: createAccountPreferencesRepository(db, options),
    chats: createChatsRepository(db, options),
    files: createFilesRepository(db, options),
    fileTexts: createFileTextsRepository(db, options),
    vectorStores: createVectorStoresRepository(db, options),
    vectorStoreFiles: createVectorStoreFilesRepository(db, options),
    vectorStoreFileBatches: createVectorStoreFileBatchesRepository(db, options),
    chunks: createChunksRepository(db),
    assistants: createAssistantsRepository(db, options),
    threads: createThreadsRepository(db, options),
    messages: createMessagesRepository(db, options),
    runs: createRunsRepository(db, options),
    runSteps: createRunStepsRepository(db, options),
    modelRegistry: createModelRegistryRepository(db, options),
    gpts: createGptsRepository(db, options),
    transaction: (work) => inTransaction(db, (trx) => work(createRepositories(trx, options))),
  };
}
