// Files as the playground shows them: a file's name (looked up once by id), an image the code
// interpreter drew (fetched with the session's headers, shown from an object URL), and a button
// that downloads a file the run wrote.
import { useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { fileContent, getFile } from './playground-api';
import type { PlaygroundTranslate } from './playground-i18n';

export function useFileName(fileId: string): string {
  const file = useQuery({
    queryKey: ['playground', 'file', fileId],
    queryFn: () => getFile(fileId),
    staleTime: Number.POSITIVE_INFINITY,
    retry: false,
  });
  return file.data?.filename ?? fileId;
}

export function FileName({ fileId }: { fileId: string }) {
  const name = useFileName(fileId);
  return (
    <span className="file-name" title={fileId}>
      {name}
    </span>
  );
}

export function FileImage({ fileId, t }: { fileId: string; t: PlaygroundTranslate }) {
  const [url, setUrl] = useState<string | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    const controller = new AbortController();
    let objectUrl: string | null = null;
    fileContent(fileId, controller.signal)
      .then((blob) => {
        objectUrl = URL.createObjectURL(blob);
        setUrl(objectUrl);
      })
      .catch(() => {
        if (!controller.signal.aborted) setFailed(true);
      });
    return () => {
      controller.abort();
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
  }, [fileId]);
  if (failed) return <p className="muted">{t('file.imageFailed', { id: fileId })}</p>;
  if (!url) return <span className="spinner" role="img" aria-label={t('file.imageLoading')} />;
  return <img className="playground-image" src={url} alt={t('file.imageAlt', { id: fileId })} />;
}

export function FileDownload({
  fileId,
  label,
  t,
}: {
  fileId: string;
  label: string;
  t: PlaygroundTranslate;
}) {
  const [busy, setBusy] = useState(false);
  const [failed, setFailed] = useState(false);
  const name = useFileName(fileId);
  return (
    <button
      type="button"
      className="link-button"
      aria-busy={busy || undefined}
      onClick={async () => {
        setBusy(true);
        setFailed(false);
        try {
          const url = URL.createObjectURL(await fileContent(fileId));
          const link = document.createElement('a');
          link.href = url;
          link.download = name.split('/').at(-1) ?? name;
          link.click();
          setTimeout(() => URL.revokeObjectURL(url), 0);
        } catch {
          setFailed(true);
        } finally {
          setBusy(false);
        }
      }}
    >
      {failed ? t('file.downloadFailed', { name: label }) : t('file.download', { name: label })}
    </button>
  );
}
