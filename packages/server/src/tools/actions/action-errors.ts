// What goes wrong with an action, as errors a client or the builder sees: a 400 that names what
// is wrong in the document (and where), or in the arguments a model sent.

import { InvalidRequestError } from '../../errors.js';

/** An OpenAPI document or plugin manifest that cannot become an action. */
export class ActionDocumentError extends InvalidRequestError {
  constructor(message: string, { code = 'invalid_action_document' }: { code?: string } = {}) {
    super(message, { code, param: 'document' });
  }
}

/** Arguments a model sent for an operation that cannot make a request (missing, malformed). */
export class ActionArgumentsError extends InvalidRequestError {
  constructor(message: string) {
    super(message, { code: 'invalid_action_arguments', param: 'arguments' });
  }
}
