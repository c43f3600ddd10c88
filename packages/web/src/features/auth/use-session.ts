// Who is signed in, as `GET /api/session` says, kept in the query cache under ['session'], and
// the actions that change it. The CSRF token travels with the session into the http module.
import { type QueryClient, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { api, SIGNED_OUT_EVENT, setCsrfToken } from '../../api/http';
import type { SessionState, SignedInSession } from '../../api/types';

export const SESSION_KEY = ['session'] as const;

function remember(session: SessionState): SessionState {
  setCsrfToken(session.authenticated ? session.csrf_token : null);
  return session;
}

export function useSession() {
  const queryClient = useQueryClient();
  useEffect(() => {
    // Any request that finds the session gone (expired, signed out elsewhere) asks again.
    const onSignedOut = () => void queryClient.invalidateQueries({ queryKey: SESSION_KEY });
    window.addEventListener(SIGNED_OUT_EVENT, onSignedOut);
    return () => window.removeEventListener(SIGNED_OUT_EVENT, onSignedOut);
  }, [queryClient]);
  return useQuery({
    queryKey: SESSION_KEY,
    queryFn: async () => remember(await api<SessionState>('/api/session')),
    staleTime: Number.POSITIVE_INFINITY,
    retry: 1,
  });
}

function signedIn(queryClient: QueryClient, session: SignedInSession): void {
  // Whatever was cached belonged to whoever was signed in before.
  queryClient.removeQueries({ predicate: (query) => query.queryKey[0] !== SESSION_KEY[0] });
  queryClient.setQueryData(SESSION_KEY, remember(session));
}

export function useSignIn() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (params: { email: string; password: string }) =>
      api<SignedInSession>('/api/auth/sign-in', { method: 'POST', body: params }),
    onSuccess: (session) => signedIn(queryClient, session),
  });
}

export function useSignUp() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (params: { name: string; email: string; password: string }) =>
      api<SignedInSession>('/api/auth/sign-up', { method: 'POST', body: params }),
    onSuccess: (session) => signedIn(queryClient, session),
  });
}

export function useSignOut() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => api<void>('/api/auth/sign-out', { method: 'POST' }),
    onSettled: async () => {
      setCsrfToken(null);
      queryClient.clear();
      await queryClient.fetchQuery({
        queryKey: SESSION_KEY,
        queryFn: async () => remember(await api<SessionState>('/api/session')),
      });
    },
  });
}
