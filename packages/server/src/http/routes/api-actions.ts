// The web app's actions editor and consent answers under /api: preview an OpenAPI document or
// plugin manifest, create / list / read / change / delete actions (secrets go in, never out),
// sign in to an OAuth action (start → the provider → callback), and answer a GPT chat's consent
// request. Session cookie, CSRF on changes, like every /api route. See docs/architecture/actions.md.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AtelierError, InvalidRequestError, NotFoundError } from '../../errors.js';
import type { Action, ActionsService } from '../../platform/actions-service.js';
import type { GptsService } from '../../platform/gpts-service.js';
import type { ActiveSession, SessionService } from '../../platform/sessions.js';
import type { ActionAuthInput, ActionAuthSettings } from '../../tools/actions/action-auth.js';
import type { ActionSource, ImportedAction } from '../../tools/actions/import-action.js';
import { createSessionHook, requireSession } from '../auth.js';
import { acceptEmptyJsonBodies } from '../empty-json-body.js';
import { parseParams } from '../parse-params.js';

const MAX_DOCUMENT_CHARS = 4 * 1024 * 1024;

const SourceFields = {
  text: z.string().min(1).max(MAX_DOCUMENT_CHARS).optional(),
  url: z.string().min(1).max(2048).optional(),
};

const AuthParams = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('none') }),
  z.strictObject({
    type: z.literal('api_key'),
    scheme: z.enum(['basic', 'bearer', 'custom']),
    header_name: z.string().max(256).nullable().optional(),
    api_key: z.string().max(8192).optional(),
  }),
  z.strictObject({
    type: z.literal('oauth'),
    client_id: z.string().min(1).max(1024),
    client_secret: z.string().max(8192).optional(),
    authorization_url: z.string().min(1).max(2048),
    token_url: z.string().min(1).max(2048),
    scope: z.string().max(2048).optional(),
    token_exchange: z.enum(['post_body', 'basic_header']).optional(),
    token_content_type: z.enum(['form', 'json']).optional(),
  }),
]);
type AuthParams = z.infer<typeof AuthParams>;

const PreviewParams = z.strictObject({ ...SourceFields });
const CreateParams = z.strictObject({
  ...SourceFields,
  workspace_id: z.string().min(1).max(64).optional(),
  gpt_id: z.string().min(1).max(64).nullable().optional(),
  auth: AuthParams.optional(),
  privacy_policy_url: z.string().max(2048).nullable().optional(),
});
const UpdateParams = z.strictObject({
  ...SourceFields,
  gpt_id: z.string().min(1).max(64).nullable().optional(),
  auth: AuthParams.optional(),
  privacy_policy_url: z.string().max(2048).nullable().optional(),
});
const ListQuery = z.strictObject({
  workspace_id: z.string().min(1).max(64).optional(),
  gpt_id: z.string().min(1).max(64).optional(),
});
const ConsentParams = z.strictObject({
  action_id: z.string().min(1).max(64),
  domain: z.string().min(1).max(300),
  decision: z.enum(['allow_once', 'always_allow', 'decline']),
  operation: z.string().min(1).max(128).optional(),
});
const StartQuery = z.strictObject({
  /** From a GPT's chat: the GPT whose action it is (its users are rarely in its workspace). */
  gpt_id: z.string().min(1).max(64).optional(),
});
const CallbackQuery = z.object({
  state: z.string().min(1).max(512).optional(),
  code: z.string().min(1).max(4096).optional(),
  error: z.string().max(256).optional(),
  error_description: z.string().max(1024).optional(),
});

interface ActionRoute {
  Params: { action_id: string };
}

export async function registerApiActions(
  app: FastifyInstance,
  { sessions, actions, gpts }: { sessions: SessionService; actions: ActionsService; gpts: GptsService },
): Promise<void> {
  await app.register(async (api) => {
    api.addHook('onRequest', createSessionHook({ sessions }));
    api.addHook('onSend', async (_request, reply) => {
      reply.header('cache-control', 'no-store');
    });
    acceptEmptyJsonBodies(api);

    /** Whom the signed-in person is to GPTs: their account, and the workspaces they belong to. */
    const viewerOf = (active: ActiveSession) =>
      gpts.viewer({
        accountId: active.session.accountId,
        workspaceId: active.workspaceRole ? active.session.workspaceId : null,
      });

    /** The workspaces the signed-in person belongs to; `wanted` must be one of them (else 404). */
    const workspacesOf = async (active: ActiveSession, wanted?: string) => {
      const viewer = await viewerOf(active);
      if (wanted !== undefined && !viewer.workspaceIds.has(wanted)) {
        throw new NotFoundError(`No workspace with id '${wanted}' that you belong to.`, {
          param: 'workspace_id',
        });
      }
      return viewer.workspaceIds;
    };

    /** The action in one of the person's workspaces; another workspace's action is a 404. */
    const findAction = async (active: ActiveSession, actionId: string): Promise<Action> => {
      for (const workspaceId of await workspacesOf(active)) {
        try {
          return await actions.get({ workspaceId, actionId });
        } catch (error) {
          if (!(error instanceof NotFoundError)) throw error;
        }
      }
      throw new NotFoundError(`No action with id '${actionId}'.`, { param: 'action_id' });
    };

    /**
     * An action of a GPT the person may chat with (or edit), wherever the GPT is kept: 404 for a
     * GPT they cannot reach or an action it does not use. Its users reach the actions of the
     * version they chat with; only those who edit it, the actions of its draft too.
     */
    const gptAction = async (active: ActiveSession, gptId: string, actionId: string) => {
      const viewer = await viewerOf(active);
      const published = await gpts.chatTarget({ viewer, gptId, draft: false });
      const inPublished = published?.config.actionIds.includes(actionId) ?? false;
      // The draft only when the version chatted with does not use the action (null to its users).
      const draft = inPublished ? null : await gpts.chatTarget({ viewer, gptId, draft: true });
      const target = published ?? draft;
      if (!target) throw new NotFoundError(`No GPT found with id '${gptId}'.`, { param: 'gpt_id' });
      if (!inPublished && !draft?.config.actionIds.includes(actionId)) {
        throw new NotFoundError(`This GPT has no action '${actionId}'.`, { param: 'action_id' });
      }
      return { target, action: await actions.get({ workspaceId: target.gpt.workspaceId, actionId }) };
    };

    /**
     * A `gpt_id` to store on an action must name a GPT of the action's workspace that the person
     * builds: the column has no foreign key, so anything else would be kept as a dangling id.
     */
    const checkGptOfAction = async (active: ActiveSession, workspaceId: string, gptId: string) => {
      const viewer = await viewerOf(active);
      const seen = await gpts.get({ viewer, gptId }).catch((error: unknown) => {
        if (error instanceof NotFoundError) return null;
        throw error;
      });
      if (!seen || seen.gpt.workspaceId !== workspaceId || !seen.access.edit) {
        throw new NotFoundError(`No GPT with id '${gptId}' that you build in this action's workspace.`, {
          param: 'gpt_id',
        });
      }
    };

    const callbackUrl = (request: FastifyRequest) =>
      `${request.protocol}://${request.host}/api/actions/oauth/callback`;

    api.post('/api/actions/preview', async (request) => {
      requireSession(request);
      const source = sourceOf(parseParams(PreviewParams, request.body), { required: true })!;
      try {
        return toWirePreview(await actions.preview(source), []);
      } catch (error) {
        // A document that cannot work is the editor's to show, next to the text: not a failure.
        if (error instanceof AtelierError && error.status === 400) {
          return toWirePreview(null, [{ code: error.code, message: error.message, param: error.param }]);
        }
        throw error;
      }
    });

    api.post('/api/actions', async (request, reply) => {
      const active = requireSession(request);
      const params = parseParams(CreateParams, request.body);
      const workspaceId = params.workspace_id ?? active.session.workspaceId;
      await workspacesOf(active, workspaceId);
      if (params.gpt_id) await checkGptOfAction(active, workspaceId, params.gpt_id);
      const action = await actions.create({
        workspaceId,
        ownerAccountId: active.session.accountId,
        gptId: params.gpt_id ?? null,
        source: sourceOf(params, { required: true })!,
        ...(params.auth ? { auth: fromWireAuth(params.auth) } : {}),
        ...(params.privacy_policy_url !== undefined ? { privacyPolicyUrl: params.privacy_policy_url } : {}),
      });
      return reply.code(201).send(toWireAction(action));
    });

    api.get('/api/actions', async (request) => {
      const active = requireSession(request);
      const query = parseParams(ListQuery, request.query);
      const workspaceId = query.workspace_id ?? active.session.workspaceId;
      await workspacesOf(active, workspaceId);
      const list = await actions.list({ workspaceId, ...(query.gpt_id ? { gptId: query.gpt_id } : {}) });
      const data = list.map(toWireAction);
      return {
        object: 'list',
        data,
        first_id: data[0]?.id ?? null,
        last_id: data.at(-1)?.id ?? null,
        has_more: false,
      };
    });

    api.get<ActionRoute>('/api/actions/:action_id', async (request) => {
      const active = requireSession(request);
      const action = await findAction(active, request.params.action_id);
      const oauth =
        action.auth.type === 'oauth'
          ? await actions.oauthStatus({ accountId: active.session.accountId, actionId: action.id })
          : null;
      return {
        ...toWireAction(action),
        oauth_connection: oauth
          ? { connected: oauth.connected, expires_at: oauth.expiresAt, scope: oauth.scope }
          : null,
      };
    });

    api.patch<ActionRoute>('/api/actions/:action_id', async (request) => {
      const active = requireSession(request);
      const params = parseParams(UpdateParams, request.body);
      const found = await findAction(active, request.params.action_id);
      if (params.gpt_id) await checkGptOfAction(active, found.workspaceId, params.gpt_id);
      const source = sourceOf(params, { required: false });
      const action = await actions.update({
        workspaceId: found.workspaceId,
        actionId: found.id,
        ...(params.gpt_id !== undefined ? { gptId: params.gpt_id } : {}),
        ...(source ? { source } : {}),
        ...(params.auth ? { auth: fromWireAuth(params.auth) } : {}),
        ...(params.privacy_policy_url !== undefined ? { privacyPolicyUrl: params.privacy_policy_url } : {}),
      });
      return toWireAction(action);
    });

    api.delete<ActionRoute>('/api/actions/:action_id', async (request) => {
      const active = requireSession(request);
      const found = await findAction(active, request.params.action_id);
      await actions.delete({ workspaceId: found.workspaceId, actionId: found.id });
      return { id: found.id, object: 'action.deleted', deleted: true };
    });

    // Sign-in: the browser goes to the provider, which sends it back to the callback (a top-level
    // navigation, so the SameSite=Lax session cookie comes along).
    api.get<ActionRoute>('/api/actions/:action_id/oauth/start', async (request, reply) => {
      const active = requireSession(request);
      const { gpt_id: gptId } = parseParams(StartQuery, request.query);
      // A GPT's users sign in to its actions from its chat, whichever workspace keeps them.
      const found = gptId
        ? (await gptAction(active, gptId, request.params.action_id)).action
        : await findAction(active, request.params.action_id);
      const { authorizeUrl } = await actions.startOAuth({
        accountId: active.session.accountId,
        workspaceId: found.workspaceId,
        actionId: found.id,
        redirectUri: callbackUrl(request),
      });
      return reply.redirect(authorizeUrl, 302);
    });

    api.get('/api/actions/oauth/callback', async (request, reply) => {
      const active = requireSession(request);
      const query = CallbackQuery.safeParse(request.query);
      if (!query.success) throw new InvalidRequestError('The sign-in callback is malformed.');
      if (query.data.error !== undefined) {
        throw new InvalidRequestError(
          `The sign-in was not completed: ${query.data.error_description ?? query.data.error}.`,
          { code: 'oauth_denied' },
        );
      }
      if (!query.data.state || !query.data.code) {
        throw new InvalidRequestError('The sign-in callback needs `state` and `code`.', {
          param: query.data.state ? 'code' : 'state',
        });
      }
      const { actionId } = await actions.completeOAuth({
        accountId: active.session.accountId,
        state: query.data.state,
        code: query.data.code,
      });
      return reply
        .header('content-type', 'text/html; charset=utf-8')
        .header('content-security-policy', "default-src 'none'; script-src 'unsafe-inline'")
        .send(signedInPage(actionId));
    });

    // A GPT chat's consent dialog answers here; the chat then asks the model again.
    api.post<{ Params: { gpt_id: string } }>('/api/gpts/:gpt_id/consents', async (request) => {
      const active = requireSession(request);
      const params = parseParams(ConsentParams, request.body);
      const gptId = request.params.gpt_id;
      const { target, action } = await gptAction(active, gptId, params.action_id);
      if (action.domain !== params.domain) {
        throw new InvalidRequestError(
          `The action '${action.id}' calls ${action.domain}, not ${params.domain}.`,
          {
            param: 'domain',
            code: 'domain_mismatch',
          },
        );
      }
      const remembered = await actions.rememberConsent({
        accountId: active.session.accountId,
        workspaceId: target.gpt.workspaceId,
        actionId: action.id,
        operation: params.operation,
        gptId,
        decision: params.decision,
      });
      return {
        object: 'gpt.action_consent',
        gpt_id: gptId,
        action_id: action.id,
        domain: remembered.domain,
        operation: params.operation ?? null,
        decision: params.decision,
        always_allowed: remembered.alwaysAllowed,
        expires_at: remembered.grantExpiresAt,
      };
    });
  });
}

function sourceOf(
  params: { text?: string | undefined; url?: string | undefined },
  { required }: { required: boolean },
): ActionSource | null {
  if (params.text !== undefined && params.url !== undefined) {
    throw new InvalidRequestError('Give either `text` or `url`, not both.', { param: 'url' });
  }
  if (params.text !== undefined) return { type: 'text', text: params.text };
  if (params.url !== undefined) return { type: 'url', url: params.url };
  if (required) {
    throw new InvalidRequestError('Give the OpenAPI document or plugin manifest as `text` or `url`.', {
      param: 'text',
    });
  }
  return null;
}

function fromWireAuth(auth: AuthParams): ActionAuthInput {
  if (auth.type === 'none') return { type: 'none' };
  if (auth.type === 'api_key') {
    return {
      type: 'api_key',
      scheme: auth.scheme,
      ...(auth.header_name !== undefined ? { headerName: auth.header_name } : {}),
      ...(auth.api_key !== undefined ? { apiKey: auth.api_key } : {}),
    };
  }
  return {
    type: 'oauth',
    clientId: auth.client_id,
    ...(auth.client_secret !== undefined ? { clientSecret: auth.client_secret } : {}),
    authorizationUrl: auth.authorization_url,
    tokenUrl: auth.token_url,
    ...(auth.scope !== undefined ? { scope: auth.scope } : {}),
    ...(auth.token_exchange !== undefined ? { tokenExchange: auth.token_exchange } : {}),
    ...(auth.token_content_type !== undefined ? { tokenContentType: auth.token_content_type } : {}),
  };
}

/** Auth settings without the secret: only whether one is stored. */
function toWireAuth(auth: ActionAuthSettings, hasSecret: boolean) {
  if (auth.type === 'none') return { type: 'none' as const };
  if (auth.type === 'api_key') {
    return {
      type: 'api_key' as const,
      scheme: auth.scheme,
      header_name: auth.headerName,
      has_api_key: hasSecret,
    };
  }
  return {
    type: 'oauth' as const,
    client_id: auth.clientId,
    authorization_url: auth.authorizationUrl,
    token_url: auth.tokenUrl,
    scope: auth.scope,
    token_exchange: auth.tokenExchange,
    token_content_type: auth.tokenContentType,
    has_client_secret: hasSecret,
  };
}

function toWireOperations(spec: ImportedAction['spec']) {
  return spec.operations.map((operation) => ({
    name: operation.name,
    method: operation.method.toUpperCase(),
    path: operation.path,
    summary: operation.summary,
    description: operation.description,
    consequential: operation.consequential,
    deprecated: operation.deprecated,
  }));
}

function toWirePreview(
  imported: ImportedAction | null,
  problems: { code: string | null; message: string; param: string | null }[],
) {
  return {
    object: 'action.preview',
    title: imported ? (imported.manifest?.nameForHuman ?? imported.spec.title) : null,
    domain: imported?.spec.domain ?? null,
    source: imported ? (imported.manifest ? 'plugin_manifest' : 'openapi') : null,
    privacy_policy_url: imported?.manifest?.legalInfoUrl ?? null,
    operations: imported ? toWireOperations(imported.spec) : [],
    warnings: imported ? [...imported.spec.warnings] : [],
    problems,
  };
}

export function toWireAction(action: Action) {
  return {
    id: action.id,
    object: 'action',
    workspace_id: action.workspaceId,
    gpt_id: action.gptId,
    title: action.title,
    domain: action.domain,
    source: action.sourceKind,
    document: action.document,
    document_url: action.documentUrl,
    manifest_url: action.manifestUrl,
    auth: toWireAuth(action.auth, action.hasSecret),
    privacy_policy_url: action.privacyPolicyUrl,
    operations: toWireOperations(action.spec),
    warnings: [...action.spec.warnings],
    created_at: action.createdAt,
    updated_at: action.updatedAt,
  };
}

/** Tells the page that opened the sign-in (a popup's opener) and closes, or goes back to the app. */
function signedInPage(actionId: string): string {
  const message = JSON.stringify({ type: 'atelier.action_oauth', action_id: actionId, connected: true });
  return `<!doctype html><html><head><meta charset="utf-8"><title>Signed in</title></head><body>
<p>Signed in. You can close this window and go back to your chat.</p>
<script>
if (window.opener) { window.opener.postMessage(${message}, location.origin); window.close(); }
else { location.replace('/'); }
</script></body></html>`;
}
