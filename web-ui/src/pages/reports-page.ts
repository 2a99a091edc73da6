import { html, nothing, type TemplateResult } from 'lit';

import type { ReportsOverview } from '../../../plugin/core/report-link-api';
import { formatTime, Poller } from '../api';
import { Page } from '../page';

function at(ms: number): string {
  return formatTime(new Date(ms).toISOString());
}

function counts(byState: Readonly<Record<string, number>>): string {
  const parts = Object.entries(byState).filter(([, n]) => n > 0).map(([state, n]) => `${String(n)} ${state}`);
  return parts.length === 0 ? 'none' : parts.join(', ');
}

/** The report system link (issue 16): reports received per study, AI reports sent with their ACK state, the queue, refusals. */
export class ReportsPage extends Page {
  static override properties = { data: { state: true }, error: { state: true } };
  declare data: ReportsOverview | undefined;
  declare error: string;
  // Registered with the page as a reactive controller: it polls while the page is shown.
  protected readonly poller = new Poller<ReportsOverview>(this, () => 'reports', 3000, (v) => { this.data = v; this.error = ''; }, (e) => { this.error = e.message; });

  constructor() {
    super();
    this.data = undefined;
    this.error = '';
  }

  override render(): TemplateResult {
    const data = this.data;
    return html`
      <h1 tabindex="-1">Reports</h1>
      <p>HL7 v2 reports received from the report system (their identifiers are used to de-identify their study) and the AI preliminary reports sent to it.</p>
      ${this.error === '' ? nothing : html`<p class="error" role="alert">${this.error}</p>`}
      ${data === undefined ? html`<p aria-busy="true">Loading…</p>` : !data.enabled
        ? html`<p data-testid="reports-off">The report link is off (<code>AiBridge.Reports.Enabled</code>).</p>`
        : html`
        <p data-testid="reports-link">Listener: ${data.listening === null ? 'none (reports can be POSTed)' : html`<span class="mono">${data.listening.address}:${String(data.listening.port)}</span>${data.listening.tls ? ' (TLS)' : ''}, peers ${data.listening.allowedPeers.join(', ')}`}.
          Outbound: ${data.outbound === null ? 'none' : html`<span class="mono">${data.outbound.host}:${String(data.outbound.port)}</span>`}.</p>
        <h2>Sent (AI preliminary reports)</h2>
        <p>Queue: ${counts(data.sentCounts)}.</p>
        ${data.sent.length === 0 ? html`<p data-testid="reports-sent-empty">None yet.</p>` : html`
        <table data-testid="reports-sent">
          <thead><tr><th scope="col">Study</th><th scope="col">Control ID</th><th scope="col">Status</th><th scope="col">ACK state</th>
            <th scope="col">Attempts</th><th scope="col">Outcome or error</th><th scope="col">Queued</th></tr></thead>
          <tbody>${data.sent.map((r) => html`<tr>
            <td class="mono wrap">${r.studyInstanceUid}</td><td class="mono">${r.controlId}</td><td>${r.status === 'C' ? 'correction' : 'preliminary'}</td>
            <td>${r.state === 'done' ? 'ACKed' : r.state}</td><td>${String(r.attempts)}</td>
            <td class="wrap">${r.errorCode === null ? r.outcome ?? '' : `${r.errorCode}: ${r.errorMessage ?? ''}`}</td><td>${at(r.createdAt)}</td></tr>`)}</tbody>
        </table>`}
        <h2>Received</h2>
        <p>Study re-checks: ${counts(data.receivedCounts)}.</p>
        ${data.received.length === 0 ? html`<p data-testid="reports-received-empty">None yet.</p>` : html`
        <table data-testid="reports-received">
          <thead><tr><th scope="col">Report</th><th scope="col">Study</th><th scope="col">Type</th><th scope="col">Result status</th>
            <th scope="col">From</th><th scope="col">ACK</th><th scope="col">Study re-check</th><th scope="col">Received</th></tr></thead>
          <tbody>${data.received.map((r) => html`<tr>
            <td>${String(r.id)}</td><td class="mono wrap">${r.studyInstanceUid === '' ? '(by accession)' : r.studyInstanceUid}</td><td>${r.messageType}</td>
            <td>${r.resultStatus === 'C' ? 'C (correction)' : r.resultStatus}</td><td class="mono">${r.peer} (${r.via})</td><td>AA</td>
            <td class="wrap">${r.state}${r.outcome === null ? '' : `: ${r.outcome}`}</td><td>${at(r.receivedAt)}</td></tr>`)}</tbody>
        </table>`}
        <h2>Refused</h2>
        ${data.errors.length === 0 ? html`<p data-testid="reports-errors-empty">Nothing refused since the gateway started.</p>` : html`
        <table data-testid="reports-errors">
          <thead><tr><th scope="col">When</th><th scope="col">From</th><th scope="col">Code</th><th scope="col">Reason</th></tr></thead>
          <tbody>${data.errors.map((e) => html`<tr><td>${at(e.at)}</td><td class="mono">${e.peer} (${e.via})</td><td class="mono">${e.code}</td><td class="wrap">${e.reason}</td></tr>`)}</tbody>
        </table>`}`}`;
  }
}
customElements.define('aib-reports-page', ReportsPage);
