// The draft the builder page edits, autosaved: each change is held in the page at once and sent
// a moment after typing stops (PATCH /api/gpts/{id} with the fields that changed), one save at
// a time, in order. A new GPT is created by its first save. Leaving the page saves what is left.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { ApiError } from '../../api/http';
import { changesFor, type DraftFields, type DraftKey, draftFromGpt, EMPTY_DRAFT } from './draft-fields';
import { createGpt, type Gpt, getGpt, updateDraft } from './gpts-api';

const DEBOUNCE_MS = 700;

export type SaveState = 'idle' | 'pending' | 'saving' | 'saved' | 'error';
export type LoadState = 'loading' | 'ready' | 'not-found' | 'not-builder' | 'error';

export interface GptDraft {
  readonly load: LoadState;
  readonly loadError: string | null;
  /** The GPT as last stored; null for a new one not saved yet. */
  readonly gpt: Gpt | null;
  readonly fields: DraftFields;
  readonly save: { readonly state: SaveState; readonly error: string | null };
  /** Changes fields now and saves them soon (`immediate`: without waiting for more typing). */
  change(changes: Partial<DraftFields>, options?: { immediate?: boolean }): void;
  /** Saves what is unsaved now; resolves with the GPT as stored (rejects when the save fails). */
  flush(): Promise<Gpt | null>;
  /** The GPT as the server answered a sharing change or a publish. */
  replaceGpt(gpt: Gpt): void;
  reload(): void;
}

export function useGptDraft({
  gptId,
  onCreated,
}: {
  /** Read once: a page for another GPT is another instance of the hook. */
  gptId: string | null;
  onCreated: (gptId: string) => void;
}): GptDraft {
  const [initialId] = useState(gptId);
  const [load, setLoad] = useState<LoadState>(initialId ? 'loading' : 'ready');
  const [loadError, setLoadError] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);
  const [gpt, setGpt] = useState<Gpt | null>(null);
  const [fields, setFields] = useState<DraftFields>(EMPTY_DRAFT);
  const [save, setSave] = useState<{ state: SaveState; error: string | null }>({
    state: 'idle',
    error: null,
  });

  const idRef = useRef<string | null>(initialId);
  const gptRef = useRef<Gpt | null>(null);
  const fieldsRef = useRef<DraftFields>(EMPTY_DRAFT);
  const dirty = useRef(new Set<DraftKey>());
  const chain = useRef<Promise<unknown>>(Promise.resolve());
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const onCreatedRef = useRef(onCreated);
  onCreatedRef.current = onCreated;

  // biome-ignore lint/correctness/useExhaustiveDependencies: a new attempt (reload) loads again.
  useEffect(() => {
    if (!initialId) return;
    let gone = false;
    setLoad('loading');
    getGpt(initialId).then(
      (found) => {
        if (gone) return;
        if (found.object !== 'gpt') {
          setLoad('not-builder');
          return;
        }
        gptRef.current = found;
        fieldsRef.current = draftFromGpt(found);
        setGpt(found);
        setFields(fieldsRef.current);
        setLoad('ready');
      },
      (error: unknown) => {
        if (gone) return;
        if (error instanceof ApiError && error.status === 404) setLoad('not-found');
        else {
          setLoadError(error instanceof Error ? error.message : String(error));
          setLoad('error');
        }
      },
    );
    return () => {
      gone = true;
    };
  }, [initialId, attempt]);

  const saveOnce = useCallback(async () => {
    const keys = [...dirty.current];
    if (keys.length === 0) return;
    dirty.current.clear();
    setSave({ state: 'saving', error: null });
    try {
      const body = changesFor(fieldsRef.current, keys);
      const id = idRef.current;
      const stored = id ? await updateDraft(id, body) : await createGpt(body);
      if (!id) {
        idRef.current = stored.id;
        onCreatedRef.current(stored.id);
      }
      gptRef.current = stored;
      setGpt(stored);
      setSave({ state: dirty.current.size > 0 ? 'pending' : 'saved', error: null });
    } catch (error) {
      // Kept for the next save: nothing typed is lost because one save failed.
      for (const key of keys) dirty.current.add(key);
      setSave({ state: 'error', error: error instanceof Error ? error.message : String(error) });
      throw error;
    }
  }, []);

  const flush = useCallback((): Promise<Gpt | null> => {
    if (timer.current) clearTimeout(timer.current);
    timer.current = null;
    const next = chain.current.catch(() => undefined).then(saveOnce);
    chain.current = next;
    return next.then(() => gptRef.current);
  }, [saveOnce]);

  const change = useCallback(
    (changes: Partial<DraftFields>, { immediate = false }: { immediate?: boolean } = {}) => {
      fieldsRef.current = { ...fieldsRef.current, ...changes };
      setFields(fieldsRef.current);
      for (const key of Object.keys(changes) as DraftKey[]) dirty.current.add(key);
      setSave({ state: 'pending', error: null });
      if (timer.current) clearTimeout(timer.current);
      timer.current = setTimeout(
        () => {
          timer.current = null;
          flush().catch(() => undefined);
        },
        immediate ? 0 : DEBOUNCE_MS,
      );
    },
    [flush],
  );

  const replaceGpt = useCallback((next: Gpt) => {
    gptRef.current = next;
    setGpt(next);
  }, []);

  // Leaving the page (in the app) saves what is left; closing the tab with unsaved changes asks.
  useEffect(() => {
    const onBeforeUnload = (event: BeforeUnloadEvent) => {
      if (dirty.current.size > 0) event.preventDefault();
    };
    window.addEventListener('beforeunload', onBeforeUnload);
    return () => {
      window.removeEventListener('beforeunload', onBeforeUnload);
      if (dirty.current.size > 0) flush().catch(() => undefined);
    };
  }, [flush]);

  const reload = useCallback(() => setAttempt((count) => count + 1), []);

  return useMemo(
    () => ({ load, loadError, gpt, fields, save, change, flush, replaceGpt, reload }),
    [load, loadError, gpt, fields, save, change, flush, replaceGpt, reload],
  );
}
