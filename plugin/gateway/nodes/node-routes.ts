import { jsonReply } from '../../sdk';
import { basicUser } from '../admin/phi-access';
import type { Route } from '../api/api-router';
import type { AuditLog } from '../audit-log';
import { GatewayError } from '../gateway-errors';
import type { NodeRegistry } from './node-registry';

function nodeName(raw: string): string {
  const name = decodeURIComponent(raw);
  if (!/^[A-Za-z0-9._:-]{1,128}$/.test(name)) {
    throw new GatewayError('AIB_API_BAD_PARAMETER', 'a node name is letters, digits, ".", "_", ":" and "-" (AiBridge.NodeName)', { parameter: 'name' });
  }
  return name;
}

/**
 * GET nodes: the registry as of the last heartbeat. POST nodes/{name}/drain
 * and …/resume: state changes, so they pass the router's same-origin check
 * like every other mutation, and are written to the audit with the Orthanc
 * user who asked.
 */
export function nodeRoutes(registry: NodeRegistry, audit: AuditLog): Route[] {
  const change = (state: 'draining' | 'active') => async (request: Parameters<Route['handler']>[0], params: readonly string[]) => {
    const name = nodeName(params[0] ?? '');
    const view = await registry.setState(name, state);
    const user = basicUser(request.headers['authorization']);
    audit.append({ event: state === 'draining' ? 'node-drained' : 'node-resumed', detail: `node ${name}`, ...(user === null ? {} : { user }) });
    return jsonReply(200, view);
  };
  return [
    { method: 'GET', pattern: /^nodes$/, handler: () => jsonReply(200, registry.view()) },
    { method: 'POST', pattern: /^nodes\/([^/]+)\/drain$/, handler: change('draining') },
    { method: 'POST', pattern: /^nodes\/([^/]+)\/resume$/, handler: change('active') },
  ];
}
