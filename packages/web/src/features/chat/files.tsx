// Files in a chat: uploads from the message box (`/v1/files`), their names (from the chat, else
// `/v1/files/{id}`), images shown inline and files downloaded. Contents are fetched by script with
// the session's headers (/v1 wants the CSRF header, which a plain <img src> or link cannot send)
// and shown from blob: URLs.
import { useQuery } from '@tanstack/react-query';
import { type ReactNode, useEffect, useState } from 'react';
import { api, authHeaders, toApiError } from '../../api/http';
import { useI18n } from '../../i18n/i18n';
import { Icon, type IconName } from '../../ui/icons';
import { useToast } from '../../ui/toast';
import type { FileInfo } from './chat-api';

export interface UploadedFile {
  readonly id: string;
  readonly filename: string;
  readonly bytes: number;
}

/** Temporary chats' files go when the chat does: 30 days after they were uploaded. */
const TEMPORARY_FILE_SECONDS = 30 * 24 * 60 * 60;

export async function uploadFile(
  file: File,
  { purpose, temporary }: { purpose: 'assistants' | 'vision' | 'user_data'; temporary: boolean },
): Promise<UploadedFile> {
  const form = new FormData();
  form.append('purpose', purpose);
  if (temporary) {
    form.append('expires_after[anchor]', 'created_at');
    form.append('expires_after[seconds]', String(TEMPORARY_FILE_SECONDS));
  }
  // The name a pasted image has none of its own.
  form.append('file', file, file.name || 'pasted-image.png');
  const response = await fetch('/v1/files', {
    method: 'POST',
    credentials: 'same-origin',
    headers: authHeaders(),
    body: form,
  });
  if (!response.ok) throw await toApiError(response);
  const uploaded = (await response.json()) as UploadedFile;
  return { id: uploaded.id, filename: uploaded.filename, bytes: uploaded.bytes };
}

async function fileContent(fileId: string): Promise<Blob> {
  const response = await fetch(`/v1/files/${encodeURIComponent(fileId)}/content`, {
    credentials: 'same-origin',
    headers: authHeaders(),
  });
  if (!response.ok) throw await toApiError(response);
  return response.blob();
}

/** Saves the file as the browser saves downloads. */
export async function downloadFile(fileId: string, filename: string): Promise<void> {
  const url = URL.createObjectURL(await fileContent(fileId));
  try {
    const link = document.createElement('a');
    link.href = url;
    link.download = filename;
    document.body.append(link);
    link.click();
    link.remove();
  } finally {
    // After the click has handed the blob to the download.
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  }
}

/** The file's name and size: from what the chat says, else asked of the server. */
export function useFileInfo(fileId: string, known: Readonly<Record<string, FileInfo>>): FileInfo | null {
  const listed = known[fileId];
  const asked = useQuery({
    queryKey: ['file', fileId],
    queryFn: () => api<FileInfo>(`/v1/files/${encodeURIComponent(fileId)}`),
    enabled: !listed,
    staleTime: Number.POSITIVE_INFINITY,
    retry: false,
  });
  return listed ?? asked.data ?? null;
}

/** An image file, fetched and shown inline; its name as the alternative text. */
export function FileImage({ fileId, alt }: { fileId: string; alt: string }) {
  const [url, setUrl] = useState<string | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let gone = false;
    let objectUrl: string | null = null;
    fileContent(fileId).then(
      (blob) => {
        if (gone) return;
        objectUrl = URL.createObjectURL(blob);
        setUrl(objectUrl);
      },
      () => {
        if (!gone) setFailed(true);
      },
    );
    return () => {
      gone = true;
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
  }, [fileId]);
  if (failed) return <span className="file-missing">{alt}</span>;
  return url ? (
    <img className="message-image" src={url} alt={alt} />
  ) : (
    <span className="message-image message-image-loading" role="img" aria-label={alt} aria-busy="true" />
  );
}

/** A file by name, downloaded on click. */
export function FileChip({
  fileId,
  files,
  icon = 'file',
  label = undefined,
  className = 'file-chip',
}: {
  fileId: string;
  files: Readonly<Record<string, FileInfo>>;
  icon?: IconName;
  /** Shown instead of the file's name (the name stays in the accessible label). */
  label?: ReactNode;
  className?: string;
}) {
  const { t } = useI18n();
  const toast = useToast();
  const info = useFileInfo(fileId, files);
  const name = info?.filename ?? fileId;
  return (
    <button
      type="button"
      className={className}
      title={t('files.download', { name })}
      aria-label={t('files.download', { name })}
      onClick={() =>
        void downloadFile(fileId, name).catch((error: unknown) =>
          toast(
            t('files.downloadFailed', { message: error instanceof Error ? error.message : String(error) }),
            'error',
          ),
        )
      }
    >
      <Icon name={icon} size={14} />
      <span className="file-chip-name">{label ?? name}</span>
    </button>
  );
}
