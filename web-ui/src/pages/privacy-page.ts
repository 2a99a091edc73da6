import { html, nothing, type TemplateResult } from 'lit';

import type { AuditResponse, PrivacyResponse } from '../../../plugin/core/admin-api';
import { apiUrl, formatBytes, formatTime, getJson } from '../api';
import { Page } from '../page';

export class PrivacyPage extends Page {
  static override properties = { privacy: { state: true }, audit: { state: true }, error: { state: true } };
  declare privacy: PrivacyResponse | undefined;
  declare audit: AuditResponse | undefined;
  declare error: string;

  constructor() {
    super();
    this.privacy = undefined;
    this.audit = undefined;
    this.error = '';
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void (async () => {
      try {
        [this.privacy, this.audit] = await Promise.all([getJson<PrivacyResponse>('privacy'), getJson<AuditResponse>('audit?limit=200')]);
      } catch (error) {
        this.error = error instanceof Error ? error.message : String(error);
      }
    })();
  }

  override render(): TemplateResult {
    const p = this.privacy;
    const a = this.audit;
    return html`
      <h1 tabindex="-1">Privacy</h1>
      ${this.error === '' ? nothing : html`<p class="error" role="alert">${this.error}</p>`}
      ${p === undefined ? html`<p aria-busy="true">Loading…</p>` : html`
        <section aria-labelledby="profile-h">
          <h2 id="profile-h">De-identification profile: ${p.profile.name}</h2>
          <p>${p.profile.description}</p>
          <dl class="facts">
            <dt>Options</dt><dd>${p.profile.options.length === 0 ? 'none' : p.profile.options.join(', ')}</dd>
            <dt>Ages capped at</dt><dd>${p.profile.maxAgeYears ?? '—'}</dd>
            ${p.termLists.map((t) => html`<dt>Term list ${t.name}</dt><dd>${t.terms} terms</dd>`)}
          </dl>
        </section>
        <section aria-labelledby="central-h">
          <h2 id="central-h">Sent to the central server</h2>
          <dl class="facts" data-testid="central">
            <dt>Bytes</dt><dd>${formatBytes(p.central.bytesSent)} (${p.central.bytesSent} B)</dd>
            <dt>Requests</dt><dd>${p.central.requests}</dd>
            <dt>Last</dt><dd>${formatTime(p.central.lastAt)}</dd>
            <dt>Counted in</dt><dd class="mono wrap">${p.central.source}</dd>
          </dl>
        </section>`}
      <section aria-labelledby="audit-h">
        <h2 id="audit-h">Audit log</h2>
        <p>Append-only${p === undefined ? '' : `: ${p.audit.entries} entries, ${formatBytes(p.audit.bytes)}`}.
          <a href=${apiUrl('audit?format=csv')} download>Download the audit log as CSV</a>
          <a href=${apiUrl('audit?format=jsonl')} download>Download the audit log as JSONL</a></p>
        ${a === undefined ? nothing : html`<table data-testid="audit-table">
          <thead><tr><th scope="col">When</th><th scope="col">Event</th><th scope="col">Job</th><th scope="col">Instance</th><th scope="col">User</th><th scope="col">Detail</th></tr></thead>
          <tbody>${[...a.entries].reverse().map((e) => html`<tr><td>${formatTime(e.at)}</td><td>${e.event}</td><td>${e.jobId ?? ''}</td>
            <td class="mono">${e.instanceId === undefined ? '' : `${e.instanceId.slice(0, 17)}…`}</td><td>${e.user ?? ''}</td><td class="wrap">${e.detail ?? ''}</td></tr>`)}</tbody>
        </table>`}
      </section>`;
  }
}
customElements.define('aib-privacy-page', PrivacyPage);
