// The files an assistant's built-in tools use: for the code interpreter, files uploaded and
// listed in `tool_resources.code_interpreter`; for file search, the files of the assistant's
// vector store (created with the first upload), with their indexing status.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useRef, useState } from 'react';
import { Button, IconButton } from '../../ui/button';
import { FileName, useFileName } from './file-views';
import {
  addVectorStoreFile,
  createVectorStore,
  listVectorStoreFiles,
  removeVectorStoreFile,
  uploadFile,
} from './playground-api';
import type { PlaygroundTranslate } from './playground-i18n';
import type { FileObject, VectorStoreFile } from './playground-types';

/** A button that opens the file picker, uploads what was chosen, and hands back the files. */
export function UploadButton({
  label,
  onUploaded,
  onError,
  t,
}: {
  label: string;
  onUploaded: (files: readonly FileObject[]) => void | Promise<void>;
  onError: (message: string) => void;
  t: PlaygroundTranslate;
}) {
  const input = useRef<HTMLInputElement>(null);
  const [busy, setBusy] = useState(false);
  return (
    <>
      <input
        ref={input}
        type="file"
        multiple
        hidden
        onChange={async (event) => {
          const chosen = [...(event.target.files ?? [])];
          event.target.value = '';
          if (chosen.length === 0) return;
          setBusy(true);
          try {
            const uploaded: FileObject[] = [];
            for (const file of chosen) uploaded.push(await uploadFile(file));
            await onUploaded(uploaded);
          } catch (error) {
            onError(t('files.uploadFailed', { message: (error as Error).message }));
          } finally {
            setBusy(false);
          }
        }}
      />
      <Button size="small" icon="send" busy={busy} onClick={() => input.current?.click()}>
        {busy ? t('files.uploading') : label}
      </Button>
    </>
  );
}

export function CodeInterpreterFiles({
  fileIds,
  onChange,
  onError,
  t,
}: {
  fileIds: readonly string[];
  onChange: (fileIds: readonly string[]) => void;
  onError: (message: string) => void;
  t: PlaygroundTranslate;
}) {
  return (
    <div className="tool-files">
      {fileIds.length > 0 ? (
        <ul className="file-list" aria-label={t('tools.codeInterpreterFiles')}>
          {fileIds.map((fileId) => (
            <FileRow
              key={fileId}
              fileId={fileId}
              onRemove={() => onChange(fileIds.filter((id) => id !== fileId))}
              t={t}
            />
          ))}
        </ul>
      ) : (
        <p className="field-hint">{t('tools.noFiles')}</p>
      )}
      <UploadButton
        label={t('tools.addFiles')}
        onUploaded={(files) => onChange([...fileIds, ...files.map((file) => file.id)])}
        onError={onError}
        t={t}
      />
    </div>
  );
}

export function FileSearchFiles({
  vectorStoreId,
  storeName,
  onVectorStore,
  onError,
  t,
}: {
  vectorStoreId: string | null;
  /** Name for a vector store made on the first upload. */
  storeName: string;
  onVectorStore: (vectorStoreId: string) => void;
  onError: (message: string) => void;
  t: PlaygroundTranslate;
}) {
  const queryClient = useQueryClient();
  const files = useQuery({
    queryKey: ['playground', 'vector-store-files', vectorStoreId],
    queryFn: () => listVectorStoreFiles(vectorStoreId as string),
    enabled: vectorStoreId !== null,
    // Indexing takes a moment: look again while a file is still being processed.
    refetchInterval: (query) =>
      query.state.data?.some((file) => file.status === 'in_progress') ? 1000 : false,
  });
  const refresh = () =>
    queryClient.invalidateQueries({ queryKey: ['playground', 'vector-store-files', vectorStoreId] });
  return (
    <div className="tool-files">
      {vectorStoreId ? (
        <p className="field-hint">
          {t('tools.vectorStore')} <code>{vectorStoreId}</code>
        </p>
      ) : null}
      {files.data && files.data.length > 0 ? (
        <ul className="file-list" aria-label={t('tools.fileSearchFiles')}>
          {files.data.map((file) => (
            <FileRow
              key={file.id}
              fileId={file.id}
              status={file}
              onRemove={async () => {
                try {
                  await removeVectorStoreFile(vectorStoreId as string, file.id);
                  await refresh();
                } catch (error) {
                  onError((error as Error).message);
                }
              }}
              t={t}
            />
          ))}
        </ul>
      ) : (
        <p className="field-hint">{t('tools.noFiles')}</p>
      )}
      <UploadButton
        label={t('tools.addFiles')}
        onUploaded={async (uploaded) => {
          const fileIds = uploaded.map((file) => file.id);
          if (vectorStoreId) {
            for (const fileId of fileIds) await addVectorStoreFile(vectorStoreId, fileId);
            await refresh();
          } else {
            const store = await createVectorStore({ name: storeName, fileIds });
            onVectorStore(store.id);
          }
        }}
        onError={onError}
        t={t}
      />
    </div>
  );
}

function FileRow({
  fileId,
  status,
  onRemove,
  t,
}: {
  fileId: string;
  status?: VectorStoreFile;
  onRemove: () => void;
  t: PlaygroundTranslate;
}) {
  const name = useFileName(fileId);
  return (
    <li className="file-row">
      <FileName fileId={fileId} />
      {status ? (
        <span className={`status-badge status-${status.status}`} title={status.last_error?.message}>
          {t(`fileStatus.${status.status}`)}
        </span>
      ) : null}
      <IconButton icon="close" size="small" label={t('files.remove', { name })} onClick={onRemove} />
    </li>
  );
}
