import { html, type TemplateResult } from 'lit';

import type { ClusterView } from '../../plugin/core/admin-api';
import { formatTime } from './api';

/**
 * The nodes sharing the site's database: state, heartbeat, who follows the
 * change log, leases held, and the work queue. Drain / Resume call
 * POST nodes/{name}/drain|resume (the admin's mutation, like Retry).
 */
export function nodesSection(cluster: ClusterView, change: (name: string, state: 'drain' | 'resume') => void): TemplateResult {
  const kinds = Object.entries(cluster.queue);
  const leases = (held: Readonly<Record<string, number>>): string => Object.entries(held).map(([kind, n]) => `${String(n)} ${kind}`).join(', ') || 'none';
  return html`<section aria-labelledby="nodes-h">
    <h2 id="nodes-h">Nodes (${cluster.backend})</h2>
    <table data-testid="nodes">
      <thead><tr><th scope="col">Node</th><th scope="col">State</th><th scope="col">Last heartbeat</th><th scope="col">Change log</th>
        <th scope="col">Leases</th><th scope="col"><span class="visually-hidden">Action</span></th></tr></thead>
      <tbody>${cluster.nodes.map((n) => html`<tr>
        <td>${n.name}${n.name === cluster.node ? html` <small>(this node)</small>` : ''}</td>
        <td>${n.alive ? n.state : html`<strong>not answering</strong>`}</td>
        <td>${formatTime(n.heartbeatAt)}</td>
        <td>${n.follower ? 'follows' : ''}</td>
        <td>${leases(n.leases)}</td>
        <td>${n.state === 'active'
          ? html`<button type="button" @click=${() => { change(n.name, 'drain'); }}>Drain ${n.name}</button>`
          : html`<button type="button" @click=${() => { change(n.name, 'resume'); }}>Resume ${n.name}</button>`}</td>
      </tr>`)}</tbody>
    </table>
    ${kinds.length === 0 ? '' : html`<p>Work queue: ${kinds.map(([kind, states]) => `${kind} ${Object.entries(states).map(([s, n]) => `${String(n)} ${s}`).join(', ')}`).join('; ')}</p>`}
  </section>`;
}
