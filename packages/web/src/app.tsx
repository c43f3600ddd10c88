// The app's frame: the session decides between the sign-in pages and the chat with its sidebar;
// settings open over the chat; keyboard shortcuts work everywhere.
import { lazy, Suspense, useCallback, useEffect, useRef, useState } from 'react';
import type { SignedInSession } from './api/types';
import { AuthPage } from './features/auth/auth-page';
import { useSession, useSignOut } from './features/auth/use-session';
import { type ChatActions, ChatPage } from './features/chat/chat-page';
import { Sidebar } from './features/history/sidebar';
import { useShortcuts } from './features/shortcuts/shortcuts';
import { ShortcutsDialog } from './features/shortcuts/shortcuts-dialog';
import { useLiveSync } from './features/sync/live-sync';
import { supportedLanguage, useI18n } from './i18n/i18n';
import { navigate, parseRoute, type Route, usePathname } from './router';
import { setTheme, useSystemThemeFollower } from './theme/theme';
import { Button } from './ui/button';

const SettingsDialog = lazy(() => import('./features/settings/settings-dialog'));
// The Assistants playground is for developers: its code and styles load on its first visit.
const PlaygroundPage = lazy(() => import('./features/playground/playground-page'));
// GPTs (Explore, the builder, a GPT's chat) load on their first visit too.
const GptsRoutes = lazy(() => import('./features/gpts/gpts-routes'));

const NARROW = '(max-width: 767px)';

export function App() {
  const { t } = useI18n();
  useSystemThemeFollower();
  const session = useSession();
  const route = parseRoute(usePathname());

  if (session.isPending) {
    return (
      <div className="splash" aria-busy="true">
        <img src="/favicon.svg" alt="" width={48} height={48} />
        <span className="sr-only">{t('app.loading')}</span>
      </div>
    );
  }
  if (session.isError) {
    return (
      <div className="splash">
        <p>{t('common.error', { message: session.error.message })}</p>
        <Button onClick={() => void session.refetch()}>{t('common.retry')}</Button>
      </div>
    );
  }
  if (!session.data.authenticated) {
    // On a new server the first visit is the owner's sign-up; after that, signing in.
    const mode =
      route.name === 'sign-up' || (route.name !== 'sign-in' && session.data.first_person)
        ? 'sign-up'
        : 'sign-in';
    return (
      <AuthPage mode={mode} signUpOpen={session.data.sign_up_open} firstPerson={session.data.first_person} />
    );
  }
  return <SignedIn session={session.data} route={route} />;
}

function SignedIn({ session, route }: { session: SignedInSession; route: Route }) {
  const { t, setChoice } = useI18n();
  const signOut = useSignOut();
  const narrow = useMediaQuery(NARROW);
  const [sidebarOpen, setSidebarOpen] = useState(() => !matchMedia(NARROW).matches);
  const [newChatToken, setNewChatToken] = useState(0);
  const [shortcutsOpen, setShortcutsOpen] = useState(false);
  const chatActions = useRef<ChatActions | null>(null);
  // Changes made on the person's other tabs and devices show here without a reload.
  useLiveSync();

  // The account's preferences win over this browser's, once per sign-in.
  const { theme, language } = session.preferences;
  useEffect(() => {
    setTheme(theme);
    setChoice(supportedLanguage(language));
  }, [theme, language, setChoice]);

  // Signed-in people have no business on the sign-in pages.
  useEffect(() => {
    if (route.name === 'sign-in' || route.name === 'sign-up') navigate('/', { replace: true });
  }, [route.name]);

  // Settings open over whichever chat was on screen.
  const lastChat = useRef<string | null>(null);
  if (route.name === 'chat') lastChat.current = route.chatId;
  if (route.name === 'new-chat') lastChat.current = null;
  const chatId = route.name === 'chat' ? route.chatId : route.name === 'settings' ? lastChat.current : null;

  const newChat = useCallback(() => {
    setNewChatToken((token) => token + 1);
    navigate('/');
    requestAnimationFrame(() => chatActions.current?.focusInput());
  }, []);

  useShortcuts((action) => {
    switch (action) {
      case 'newChat':
        newChat();
        return true;
      case 'focusInput':
        chatActions.current?.focusInput();
        return true;
      case 'stop':
        return chatActions.current?.stop() ?? false;
      case 'copyLast':
        return chatActions.current?.copyLastAnswer() ?? false;
      case 'toggleSidebar':
        setSidebarOpen((open) => !open);
        return true;
      case 'help':
        setShortcutsOpen(true);
        return true;
    }
  });

  const closeSettings = () => navigate(lastChat.current ? `/c/${lastChat.current}` : '/');

  return (
    <div className={`app${sidebarOpen ? ' app-sidebar-open' : ''}${narrow ? ' app-narrow' : ''}`}>
      <a className="skip-link" href="#composer-input">
        {t('chat.inputLabel')}
      </a>
      <Sidebar
        open={sidebarOpen}
        overlay={narrow}
        historyEnabled={session.preferences.chat_history_enabled}
        account={session.account}
        activeChatId={chatId}
        onClose={() => setSidebarOpen(false)}
        onNewChat={newChat}
        onOpenSettings={() => navigate('/settings/general')}
        onOpenPlayground={() => {
          navigate('/playground');
          if (narrow) setSidebarOpen(false);
        }}
        onExploreGpts={() => {
          navigate('/gpts');
          if (narrow) setSidebarOpen(false);
        }}
        onSignOut={() => signOut.mutate()}
      />
      {route.name === 'playground' ? (
        <Suspense fallback={<div className="splash" aria-busy="true" />}>
          <PlaygroundPage
            assistantId={route.assistantId}
            sidebarOpen={sidebarOpen && !narrow}
            onOpenSidebar={() => setSidebarOpen(true)}
          />
        </Suspense>
      ) : route.name === 'gpts' || route.name === 'gpt-editor' ? (
        <Suspense fallback={<div className="splash" aria-busy="true" />}>
          <GptsRoutes
            route={route}
            sidebarOpen={sidebarOpen && !narrow}
            onOpenSidebar={() => setSidebarOpen(true)}
          />
        </Suspense>
      ) : (
        // A GPT's page is a new chat with it: the same page goes on as the chat once it exists.
        <ChatPage
          chatId={chatId}
          gpt={route.name === 'gpt' ? { gptId: route.gptId, linkToken: route.linkToken } : null}
          newChatToken={newChatToken}
          preferences={session.preferences}
          capabilities={session.capabilities}
          sidebarOpen={sidebarOpen && !narrow}
          onOpenSidebar={() => setSidebarOpen(true)}
          onNewChat={newChat}
          actions={chatActions}
        />
      )}
      {route.name === 'settings' ? (
        <Suspense fallback={null}>
          <SettingsDialog
            tab={route.tab}
            session={session}
            onSelectTab={(tab) => navigate(`/settings/${tab}`, { replace: true })}
            onClose={closeSettings}
            onShowShortcuts={() => setShortcutsOpen(true)}
          />
        </Suspense>
      ) : null}
      <ShortcutsDialog open={shortcutsOpen} onClose={() => setShortcutsOpen(false)} />
    </div>
  );
}

function useMediaQuery(query: string): boolean {
  const [matches, setMatches] = useState(() => matchMedia(query).matches);
  useEffect(() => {
    const media = matchMedia(query);
    const onChange = () => setMatches(media.matches);
    media.addEventListener('change', onChange);
    return () => media.removeEventListener('change', onChange);
  }, [query]);
  return matches;
}
