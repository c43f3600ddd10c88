// The GPT pages behind one lazy import (app.tsx): Explore GPTs and the builder, chosen by the
// route. Their code, strings and styles load on the first visit to any of them. A GPT's chat
// (`/g/…`) is a chat like any other (features/chat).
import type { Route } from '../../router';
import GptEditorPage from './gpt-editor-page';
import GptsPage from './gpts-page';

export type GptRoute = Extract<Route, { name: 'gpts' | 'gpt-editor' }>;

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
  }
}
