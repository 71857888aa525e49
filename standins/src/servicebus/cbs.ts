import type { Message } from './codec.ts';
import type { ManagementResult } from './management.ts';
import type { Namespace } from './namespace.ts';
import { normalizePath } from './send-target.ts';

/**
 * `$cbs` put-token. Any token is accepted (the emulator's fixed SAS key is public), but the audience must name
 * a known entity: answering 404 here is what makes the SDK raise MessagingEntityNotFound before it attaches.
 */
export function handleCbs(ns: Namespace, request: Message): ManagementResult {
  const props = request.application_properties ?? {};
  if (props.operation !== 'put-token') {
    return { status: 400, condition: 'com.microsoft:argument-error', description: 'only put-token is supported' };
  }
  const audience = typeof props.name === 'string' ? props.name : '';
  if (typeof request.body !== 'string' || request.body.length === 0) {
    return { status: 401, condition: 'amqp:unauthorized-access', description: 'missing token' };
  }
  const path = normalizePath(audience);
  if (path !== '' && !ns.exists(path)) {
    return {
      status: 404,
      condition: 'amqp:not-found',
      description: `The messaging entity '${path.replace(/\/\$management$/, '')}' could not be found.`,
    };
  }
  return { status: 202, description: 'Accepted' };
}
