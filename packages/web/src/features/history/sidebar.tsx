// The sidebar: new chat, search, the history in date groups (rename and delete from each
// chat's menu), and the account menu. On a phone it slides over the chat and closes on choice. A
// chat with a GPT shows the GPT's avatar (named for screen readers) before its title.
import { type FormEvent, useEffect, useMemo, useRef, useState } from 'react';
import type { Account } from '../../api/types';
import { type Translate, useI18n } from '../../i18n/i18n';
import { navigate } from '../../router';
import { IconButton } from '../../ui/button';
import { ConfirmDialog } from '../../ui/dialog';
import { Icon } from '../../ui/icons';
import { Menu } from '../../ui/menu';
import { useToast } from '../../ui/toast';
import type { ChatSummary } from '../chat/chat-api';
import { GptFaceImage } from '../chat/gpt-face-image';
import { useSavePreferences } from '../settings/use-preferences';
import { type DateGroup, groupByDate } from './date-groups';
import { useChatHistory, useDeleteChat, useRenameChat } from './use-chats';

export interface SidebarProps {
  readonly open: boolean;
  readonly account: Account;
  readonly activeChatId: string | null;
  readonly onClose: () => void;
  readonly onNewChat: () => void;
  readonly onOpenSettings: () => void;
  /** Opens the Assistants playground (account menu). */
  readonly onOpenPlayground: () => void;
  /** Opens Explore GPTs (below "New chat"). */
  readonly onExploreGpts?: () => void;
  readonly onSignOut: () => void;
  /** Narrow screens: the sidebar overlays the chat and closes after each choice. */
  readonly overlay: boolean;
  /** The account's "chat history & training"; off, new chats are not listed. */
  readonly historyEnabled: boolean;
}

export function Sidebar({
  open,
  account,
  activeChatId,
  onClose,
  onNewChat,
  onOpenSettings,
  onOpenPlayground,
  onExploreGpts,
  onSignOut,
  overlay,
  historyEnabled,
}: SidebarProps) {
  const { t, language } = useI18n();
  const toast = useToast();
  const savePreferences = useSavePreferences();
  const [search, setSearch] = useState('');
  const [query, setQuery] = useState('');
  useEffect(() => {
    const timer = setTimeout(() => setQuery(search.trim()), 250);
    return () => clearTimeout(timer);
  }, [search]);
  const history = useChatHistory(query);
  const chats = useMemo(() => history.data?.pages.flatMap((page) => page.chats) ?? [], [history.data]);
  const groups = useMemo(() => groupByDate(chats, new Date()), [chats]);
  const monthFormat = useMemo(() => new Intl.DateTimeFormat(language, { month: 'long' }), [language]);
  const monthYearFormat = useMemo(
    () => new Intl.DateTimeFormat(language, { month: 'long', year: 'numeric' }),
    [language],
  );

  const more = useRef<HTMLDivElement>(null);
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = history;
  useEffect(() => {
    // The next page loads as the end of the list scrolls into view.
    const sentinel = more.current;
    if (!sentinel || !hasNextPage || isFetchingNextPage) return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) void fetchNextPage();
    });
    observer.observe(sentinel);
    return () => observer.disconnect();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);

  const groupLabel = (group: DateGroup) => {
    if (group.kind !== 'month') return t(`history.${group.kind}`);
    const date = new Date(group.year, group.month, 1);
    return group.year === new Date().getFullYear() ? monthFormat.format(date) : monthYearFormat.format(date);
  };

  const choose = (path: string) => {
    navigate(path);
    if (overlay) onClose();
  };

  return (
    <>
      {overlay && open ? <div className="sidebar-backdrop" onClick={onClose} aria-hidden="true" /> : null}
      <aside
        className={`sidebar${open ? ' sidebar-open' : ''}`}
        aria-label={t('sidebar.label')}
        hidden={!open}
      >
        <div className="sidebar-top">
          <span className="sidebar-brand">
            <img src="/favicon.svg" alt="" width={26} height={26} />
            <span>{t('app.name')}</span>
          </span>
          <IconButton icon="sidebar" label={t('sidebar.close')} onClick={onClose} />
        </div>
        <button
          type="button"
          className="sidebar-new-chat"
          onClick={() => {
            onNewChat();
            if (overlay) onClose();
          }}
        >
          <Icon name="new-chat" size={18} />
          <span>{t('sidebar.newChat')}</span>
        </button>
        {onExploreGpts ? (
          <button type="button" className="sidebar-new-chat" onClick={onExploreGpts}>
            <Icon name="sparkle" size={18} />
            <span>{t('sidebar.exploreGpts')}</span>
          </button>
        ) : null}
        <div className="sidebar-search">
          <Icon name="search" size={16} />
          <input
            type="search"
            value={search}
            onChange={(event) => setSearch(event.target.value)}
            placeholder={t('sidebar.search')}
            aria-label={t('sidebar.search')}
          />
        </div>
        {historyEnabled ? null : (
          <div className="history-off" role="note">
            <p>{t('sidebar.historyOff')}</p>
            <button
              type="button"
              className="button button-secondary button-small"
              disabled={savePreferences.isPending}
              onClick={() =>
                savePreferences.mutate(
                  { chat_history_enabled: true },
                  { onError: (error) => toast(t('common.error', { message: error.message }), 'error') },
                )
              }
            >
              {t('sidebar.historyTurnOn')}
            </button>
          </div>
        )}
        <nav className="history" aria-label={t('sidebar.history')}>
          {groups.map(({ key, group, items }) => (
            <section key={key} className="history-group">
              <h2 className="history-group-title">{groupLabel(group)}</h2>
              <ul>
                {items.map((chat) => (
                  <HistoryItem
                    key={chat.id}
                    chat={chat}
                    active={chat.id === activeChatId}
                    onOpen={() => choose(`/c/${chat.id}`)}
                    onDeleted={() => {
                      if (chat.id === activeChatId) onNewChat();
                    }}
                    t={t}
                  />
                ))}
              </ul>
            </section>
          ))}
          {history.isSuccess && chats.length === 0 ? (
            <p className="history-empty">{query ? t('sidebar.noResults', { query }) : t('sidebar.empty')}</p>
          ) : null}
          {history.hasNextPage ? (
            <div ref={more} className="history-more">
              <button type="button" className="link-button" onClick={() => void history.fetchNextPage()}>
                {t('sidebar.loadMore')}
              </button>
            </div>
          ) : null}
        </nav>
        <div className="sidebar-bottom">
          <Menu
            label={t('sidebar.accountMenu', { name: account.name })}
            placement="top-start"
            triggerClassName="account-button"
            trigger={
              <>
                <span className="avatar" aria-hidden="true">
                  {initials(account.name)}
                </span>
                <span className="account-name">{account.name}</span>
              </>
            }
            items={[
              { key: 'settings', label: t('sidebar.settings'), icon: 'settings', onSelect: onOpenSettings },
              {
                key: 'playground',
                label: t('sidebar.playground'),
                icon: 'sparkle',
                onSelect: onOpenPlayground,
              },
              { key: 'sign-out', label: t('sidebar.signOut'), icon: 'sign-out', onSelect: onSignOut },
            ]}
          />
        </div>
      </aside>
    </>
  );
}

function HistoryItem({
  chat,
  active,
  onOpen,
  onDeleted,
  t,
}: {
  chat: ChatSummary;
  active: boolean;
  onOpen: () => void;
  onDeleted: () => void;
  t: Translate;
}) {
  const [renaming, setRenaming] = useState(false);
  const [title, setTitle] = useState(chat.title);
  const [confirming, setConfirming] = useState(false);
  const rename = useRenameChat();
  const remove = useDeleteChat();
  const toast = useToast();

  const submitRename = (event?: FormEvent) => {
    event?.preventDefault();
    const next = title.trim();
    setRenaming(false);
    if (!next || next === chat.title) {
      setTitle(chat.title);
      return;
    }
    rename.mutate(
      { chatId: chat.id, title: next },
      { onError: (error) => toast(t('common.error', { message: error.message }), 'error') },
    );
  };

  if (renaming) {
    return (
      <li className="history-item history-item-editing">
        <form onSubmit={submitRename}>
          <input
            // biome-ignore lint/a11y/noAutofocus: the person just asked to rename this chat.
            autoFocus
            aria-label={t('history.titleLabel')}
            value={title}
            maxLength={200}
            onChange={(event) => setTitle(event.target.value)}
            onBlur={() => submitRename()}
            onKeyDown={(event) => {
              if (event.key === 'Escape') {
                event.stopPropagation();
                setTitle(chat.title);
                setRenaming(false);
              }
            }}
          />
        </form>
      </li>
    );
  }

  return (
    <li className={`history-item${active ? ' history-item-active' : ''}`}>
      <a
        href={`/c/${chat.id}`}
        aria-current={active ? 'page' : undefined}
        onClick={(event) => {
          event.preventDefault();
          onOpen();
        }}
        title={chat.gpt?.name ? `${chat.gpt.name}: ${chat.title}` : chat.title}
      >
        {chat.gpt ? (
          <GptFaceImage url={chat.gpt.avatarUrl} size={20} alt={chat.gpt.name ?? t('gptChat.gone')} />
        ) : null}
        <span className="history-item-title">{chat.title}</span>
      </a>
      <Menu
        label={t('history.options', { title: chat.title })}
        placement="bottom-end"
        triggerClassName="history-item-menu"
        trigger={<Icon name="more" size={18} />}
        items={[
          {
            key: 'rename',
            label: t('common.rename'),
            icon: 'pencil',
            onSelect: () => {
              setTitle(chat.title);
              setRenaming(true);
            },
          },
          {
            key: 'delete',
            label: t('common.delete'),
            icon: 'trash',
            danger: true,
            onSelect: () => setConfirming(true),
          },
        ]}
      />
      <ConfirmDialog
        open={confirming}
        title={t('history.deleteTitle')}
        body={<p>{t('history.deleteBody', { title: chat.title })}</p>}
        confirmLabel={t('common.delete')}
        cancelLabel={t('common.cancel')}
        busy={remove.isPending}
        onCancel={() => setConfirming(false)}
        onConfirm={() =>
          remove.mutate(chat.id, {
            onSuccess: () => {
              setConfirming(false);
              toast(t('history.deleted'));
              onDeleted();
            },
            onError: (error) => toast(t('common.error', { message: error.message }), 'error'),
          })
        }
      />
    </li>
  );
}

function initials(name: string): string {
  const letters = name
    .trim()
    .split(/\s+/)
    .map((part) => [...part][0] ?? '')
    .join('');
  return [...letters].slice(0, 2).join('').toUpperCase() || '?';
}
