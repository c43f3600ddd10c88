// The OpenAPI document of the small tasks API the GPT-action tests serve locally: a harmless
// `listTasks` (GET) and a consequential `addTask` (POST with a JSON body).

export function tasksDocument(serverUrl: string): string {
  return JSON.stringify({
    openapi: '3.1.0',
    info: { title: 'Tasks', version: '1' },
    servers: [{ url: serverUrl }],
    paths: {
      '/tasks': {
        get: {
          operationId: 'listTasks',
          summary: 'List my tasks',
          responses: { 200: { description: 'ok' } },
        },
        post: {
          operationId: 'addTask',
          summary: 'Add a task',
          requestBody: {
            content: {
              'application/json': {
                schema: { type: 'object', properties: { title: { type: 'string' } }, required: ['title'] },
              },
            },
          },
          responses: { 201: { description: 'created' } },
        },
      },
    },
  });
}
