// The GPT pages behind one lazy import (app.tsx): Explore GPTs, the builder and a GPT's chat,
// chosen by the route. Their code, strings and styles load on the first visit to any of them.
import type { Route } from '../../router';
import GptChatPage from './gpt-chat-page';
import GptEditorPage from './gpt-editor-page';
import GptsPage from './gpts-page';

export type GptRoute = Extract<Route, { name: 'gpts' | 'gpt-editor' | 'gpt' }>;

export interface GptsRoutesProps {
  readonly route: GptRoute;
  readonly sidebarOpen: boolean;
  readonly onOpenSidebar: () => void;
}

export default function GptsRoutes({ route, ...frame }: GptsRoutesProps) {
  switch (route.name) {
    case 'gpts':
      return <GptsPage {...frame} />;
    case 'gpt-editor':
      return <GptEditorPage gptId={route.gptId} {...frame} />;
    case 'gpt':
      return <GptChatPage gptId={route.gptId} linkToken={route.linkToken} {...frame} />;
  }
}
