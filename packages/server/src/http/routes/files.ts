// /v1/files: multipart upload streamed into the blob store, list (by purpose, cursor-paged),
// retrieve, download, delete.
import { type FileDeleted, FileListParams, FileUploadFields } from '@atelier/protocol';
import type { MultipartFile, MultipartValue } from '@fastify/multipart';
import type { FastifyInstance } from 'fastify';
import { AtelierError, InvalidRequestError, PayloadTooLargeError } from '../../errors.js';
import type { FilesService, ReceivedUpload } from '../../platform/files-service.js';
import type { Repositories } from '../../storage/repositories.js';
import { parseBody } from '../parse.js';
import { toWireFile, toWirePage } from '../to-wire-files.js';

export interface FilesRouteServices {
  readonly files: FilesService;
  readonly repositories: Repositories;
}

type FileParams = { Params: { file_id: string } };

export function registerFiles(app: FastifyInstance, { files, repositories }: FilesRouteServices): void {
  app.post('/v1/files', async (request) => {
    const workspaceId = request.principal!.workspaceId;
    if (!request.isMultipart()) {
      throw new InvalidRequestError(
        "Upload files as multipart/form-data with a 'file' part and a 'purpose' field.",
        { param: 'file' },
      );
    }
    const fields: Record<string, string> = {};
    let received: ReceivedUpload | undefined;
    let contentType: string | null = null;
    try {
      for await (const part of request.parts()) {
        if (part.type === 'file') {
          if (part.fieldname !== 'file' || received) {
            part.file.resume();
            throw new InvalidRequestError("Send exactly one file, in the part named 'file'.", {
              param: 'file',
            });
          }
          received = await files.receive({ filename: part.filename, source: (part as MultipartFile).file });
          contentType = part.mimetype || null;
        } else {
          fields[part.fieldname] = String((part as MultipartValue).value);
        }
      }
    } catch (error) {
      await received?.discard();
      throw fromMultipartError(error, files.maxFileBytes);
    }
    if (!received) throw new InvalidRequestError("Missing required parameter: 'file'.", { param: 'file' });
    try {
      const { purpose, expires_after } = parseBody(FileUploadFields, uploadFields(fields));
      const file = await received.finish({
        workspaceId,
        purpose,
        contentType,
        expiresAfterSeconds: expires_after?.seconds ?? null,
      });
      return toWireFile(file);
    } finally {
      await received.discard();
    }
  });

  app.get('/v1/files', async (request) => {
    const query = FileListParams.parse(request.query ?? {});
    const page = await repositories.files.list({ workspaceId: request.principal!.workspaceId, ...query });
    return toWirePage(page, toWireFile);
  });

  app.get<FileParams>('/v1/files/:file_id', async (request) =>
    toWireFile(await files.find(request.principal!.workspaceId, request.params.file_id)),
  );

  app.get<FileParams>('/v1/files/:file_id/content', async (request, reply) => {
    const { file, stream } = await files.content(request.principal!.workspaceId, request.params.file_id);
    return reply
      .header('content-type', file.contentType ?? 'application/octet-stream')
      .header('content-length', String(file.bytes))
      .header('content-disposition', `attachment; filename*=UTF-8''${encodeURIComponent(file.filename)}`)
      .send(stream);
  });

  app.delete<FileParams>('/v1/files/:file_id', async (request): Promise<FileDeleted> => {
    const file = await files.delete(request.principal!.workspaceId, request.params.file_id);
    return { id: file.id, object: 'file', deleted: true };
  });
}

/** `expires_after[anchor]` / `expires_after[seconds]` (how SDKs send nested fields) → an object. */
function uploadFields(fields: Readonly<Record<string, string>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const nested: Record<string, Record<string, string>> = {};
  for (const [name, value] of Object.entries(fields)) {
    const match = /^([a-z_]+)\[([a-z_]+)\]$/.exec(name);
    if (!match) {
      out[name] = value;
      continue;
    }
    const group = nested[match[1]!] ?? {};
    group[match[2]!] = value;
    nested[match[1]!] = group;
  }
  for (const [name, value] of Object.entries(nested)) out[name] = value;
  if (typeof out['expires_after'] === 'string') {
    try {
      out['expires_after'] = JSON.parse(out['expires_after']);
    } catch {
      // left as it is: validation names the parameter
    }
  }
  return out;
}

/**
 * Errors while reading the multipart body are the client's (a limit, a malformed or cut-off
 * body), never a 500: @fastify/multipart's limit errors and busboy's parse errors become 413/400.
 */
function fromMultipartError(error: unknown, maxFileBytes: number): unknown {
  if (error instanceof AtelierError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'FST_REQ_FILE_TOO_LARGE') {
    return new PayloadTooLargeError(`File is too large: the limit is ${maxFileBytes} bytes per file.`);
  }
  if (code === 'FST_FILES_LIMIT') {
    return new InvalidRequestError("Send exactly one file, in the part named 'file'.", { param: 'file' });
  }
  if (code === 'FST_PARTS_LIMIT' || code === 'FST_FIELDS_LIMIT' || code === 'FST_PROTO_VIOLATION') {
    return new InvalidRequestError('The multipart body has too many parts.', { param: 'file' });
  }
  if (code === 'FST_INVALID_MULTIPART_CONTENT_TYPE') {
    return new InvalidRequestError('The multipart body is malformed.', { param: 'file' });
  }
  // The server's own trouble (a full disk): not the client's, left to be a 500.
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return error;
  return new InvalidRequestError(
    `The multipart body could not be read: ${(error as Error)?.message ?? error}`,
    {
      param: 'file',
    },
  );
}
