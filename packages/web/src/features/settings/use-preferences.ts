// Saving preferences: the server's copy (so they follow the person to every device) and the
// session cache that the rest of the app reads them from.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from '../../api/http';
import type { Preferences, SessionState } from '../../api/types';
import { SESSION_KEY } from '../auth/use-session';

export function useSavePreferences() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (changes: Partial<Preferences>) =>
      api<Preferences>('/api/account/preferences', { method: 'PATCH', body: changes }),
    onSuccess: (preferences) =>
      queryClient.setQueryData<SessionState>(SESSION_KEY, (session) =>
        session?.authenticated ? { ...session, preferences } : session,
      ),
  });
}
