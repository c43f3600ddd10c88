// Explore GPTs (/gpts): the GPTs the person builds (draft or published, how they are shared, how
// much they are used), then those shared with their workspace and those shared with everyone,
// and "Create a GPT". A builder's card opens the builder; anyone else's opens its chat.
import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { useI18n } from '../../i18n/i18n';
import { navigate } from '../../router';
import { Button, IconButton } from '../../ui/button';
import { ConfirmDialog } from '../../ui/dialog';
import { Icon } from '../../ui/icons';
import { Menu } from '../../ui/menu';
import { useToast } from '../../ui/toast';
import { GptAvatar } from './gpt-avatar';
import { deleteGpt, faceOf, type Gpt, type GptScope, type GptView, listGpts } from './gpts-api';
import { type GptsTranslate, useGptsI18n } from './gpts-i18n';
import { Link } from './link';
import './gpts.css';

export const GPTS_KEY = ['gpts'] as const;

export interface GptsPageProps {
  readonly sidebarOpen: boolean;
  readonly onOpenSidebar: () => void;
}

export default function GptsPage({ sidebarOpen, onOpenSidebar }: GptsPageProps) {
  const { t } = useGptsI18n();
  const app = useI18n();
  const ids = useId();
  const mine = useGptList('mine');
  const workspace = useGptList('workspace');
  const everyone = useGptList('public');
  const mineIds = new Set(mine.items.map((gpt) => gpt.id));
  // The person's own GPTs are listed once, under "My GPTs".
  const shared = (items: readonly (Gpt | GptView)[]) => items.filter((gpt) => !mineIds.has(gpt.id));
  const workspaceItems = shared(workspace.items);
  const workspaceIds = new Set(workspaceItems.map((gpt) => gpt.id));
  const publicItems = shared(everyone.items).filter((gpt) => !workspaceIds.has(gpt.id));

  return (
    <main className="gpts-page" aria-labelledby={`${ids}-title`}>
      <header className="gpts-header">
        {!sidebarOpen ? (
          <IconButton icon="sidebar" label={app.t('sidebar.open')} onClick={onOpenSidebar} />
        ) : null}
        <h1 id={`${ids}-title`}>{t('explore.title')}</h1>
        <Button
          variant="primary"
          icon="new-chat"
          className="gpts-create"
          onClick={() => navigate('/gpts/new')}
        >
          {t('explore.create')}
        </Button>
      </header>
      <div className="gpts-scroll">
        <p className="gpts-intro">{t('explore.intro')}</p>

        <section className="gpts-section" aria-labelledby={`${ids}-mine`}>
          <h2 id={`${ids}-mine`}>{t('explore.mine')}</h2>
          <ListState list={mine} empty={t('explore.mineEmpty')} t={t} />
          <ul className="gpt-cards">
            {mine.items.map((gpt) => (
              <MyGptCard key={gpt.id} gpt={gpt as Gpt} t={t} />
            ))}
          </ul>
          <MoreButton list={mine} t={t} />
        </section>

        {workspaceItems.length > 0 ? (
          <section className="gpts-section" aria-labelledby={`${ids}-workspace`}>
            <h2 id={`${ids}-workspace`}>{t('explore.workspace')}</h2>
            <ul className="gpt-cards">
              {workspaceItems.map((gpt) => (
                <SharedGptCard key={gpt.id} gpt={gpt} t={t} />
              ))}
            </ul>
            <MoreButton list={workspace} t={t} />
          </section>
        ) : null}

        <section className="gpts-section" aria-labelledby={`${ids}-public`}>
          <h2 id={`${ids}-public`}>{t('explore.public')}</h2>
          <ListState list={everyone} empty={t('explore.publicEmpty')} t={t} items={publicItems.length} />
          <ul className="gpt-cards">
            {publicItems.map((gpt) => (
              <SharedGptCard key={gpt.id} gpt={gpt} t={t} />
            ))}
          </ul>
          <MoreButton list={everyone} t={t} />
        </section>
      </div>
    </main>
  );
}

interface GptList {
  readonly items: readonly (Gpt | GptView)[];
  readonly isPending: boolean;
  readonly error: Error | null;
  readonly hasMore: boolean;
  readonly loadingMore: boolean;
  more(): void;
  retry(): void;
}

function useGptList(scope: GptScope): GptList {
  const query = useInfiniteQuery({
    queryKey: [...GPTS_KEY, scope],
    queryFn: ({ pageParam }) => listGpts(scope, pageParam),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (page) => (page.has_more && page.last_id ? page.last_id : undefined),
  });
  return {
    items: query.data?.pages.flatMap((page) => page.data) ?? [],
    isPending: query.isPending,
    error: query.error,
    hasMore: !!query.hasNextPage,
    loadingMore: query.isFetchingNextPage,
    more: () => void query.fetchNextPage(),
    retry: () => void query.refetch(),
  };
}

function ListState({
  list,
  empty,
  t,
  items = list.items.length,
}: {
  list: GptList;
  empty: string;
  t: GptsTranslate;
  items?: number;
}) {
  if (list.isPending) return <span className="spinner" role="img" aria-label={t('explore.loading')} />;
  if (list.error) {
    return (
      <div className="gpts-error" role="alert">
        <p>{t('explore.loadFailed', { message: list.error.message })}</p>
        <Button size="small" onClick={list.retry}>
          {t('common.retry')}
        </Button>
      </div>
    );
  }
  return items === 0 ? <p className="gpts-empty">{empty}</p> : null;
}

function MoreButton({ list, t }: { list: GptList; t: GptsTranslate }) {
  if (!list.hasMore) return null;
  return (
    <Button size="small" variant="ghost" busy={list.loadingMore} onClick={list.more}>
      {t('explore.more')}
    </Button>
  );
}

export function visibilityLabel(t: GptsTranslate, visibility: Gpt['visibility']): string {
  return t(`visibility.${visibility}`);
}

function MyGptCard({ gpt, t }: { gpt: Gpt; t: GptsTranslate }) {
  const toast = useToast();
  const queryClient = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const remove = useMutation({
    mutationFn: () => deleteGpt(gpt.id),
    onSuccess: () => {
      setConfirming(false);
      toast(t('explore.deleted'));
      void queryClient.invalidateQueries({ queryKey: GPTS_KEY });
    },
    onError: (error) => toast(t('common.error', { message: error.message }), 'error'),
  });
  const name = gpt.draft.name || t('common.untitled');
  const status = gpt.published
    ? t('explore.published', { version: gpt.published.version })
    : t('explore.draft');
  return (
    <li className="gpt-card">
      <Link
        href={`/gpts/${gpt.id}/edit`}
        className="gpt-card-main"
        aria-label={t('explore.editNamed', { name })}
      >
        <GptAvatar gptId={gpt.id} avatarFileId={gpt.draft.avatar_file_id} size={48} />
        <span className="gpt-card-text">
          <span className="gpt-card-name">{name}</span>
          {gpt.draft.description ? (
            <span className="gpt-card-description">{gpt.draft.description}</span>
          ) : null}
          <span className="gpt-card-meta">
            {status} · {visibilityLabel(t, gpt.visibility)}
            {gpt.usage.conversations > 0
              ? ` · ${t('explore.chats', { count: gpt.usage.conversations })}`
              : ''}
          </span>
        </span>
      </Link>
      <Menu
        label={t('explore.actions', { name })}
        placement="bottom-end"
        triggerClassName="icon-button icon-button-medium icon-button-ghost"
        trigger={<Icon name="more" size={20} />}
        items={[
          {
            key: 'chat',
            label: t('explore.chat'),
            icon: 'new-chat',
            onSelect: () => navigate(`/g/${gpt.id}`),
          },
          {
            key: 'edit',
            label: t('explore.edit'),
            icon: 'pencil',
            onSelect: () => navigate(`/gpts/${gpt.id}/edit`),
          },
          {
            key: 'delete',
            label: t('explore.delete'),
            icon: 'trash',
            danger: true,
            onSelect: () => setConfirming(true),
          },
        ]}
      />
      <ConfirmDialog
        open={confirming}
        title={t('explore.deleteTitle')}
        body={<p>{t('explore.deleteBody', { name })}</p>}
        confirmLabel={t('explore.delete')}
        cancelLabel={t('common.cancel')}
        busy={remove.isPending}
        onConfirm={() => remove.mutate()}
        onCancel={() => setConfirming(false)}
      />
    </li>
  );
}

function SharedGptCard({ gpt, t }: { gpt: Gpt | GptView; t: GptsTranslate }) {
  const face = faceOf(gpt);
  const name = face.name || t('common.untitled');
  return (
    <li className="gpt-card">
      <Link href={`/g/${gpt.id}`} className="gpt-card-main">
        <GptAvatar gptId={gpt.id} avatarFileId={face.avatarFileId} size={48} />
        <span className="gpt-card-text">
          <span className="gpt-card-name">{name}</span>
          {face.description ? <span className="gpt-card-description">{face.description}</span> : null}
          <span className="gpt-card-meta">{t('common.by', { name: face.builderName })}</span>
        </span>
      </Link>
    </li>
  );
}
