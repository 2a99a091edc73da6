import { html, nothing, type TemplateResult } from 'lit';

import type { JobDeletedResponse, JobView, QuarantineEntry, QuarantineResponse } from '../../../plugin/core/admin-api';
import { formatTime, Poller, send } from '../api';
import { follow, Page } from '../page';

export class QuarantinePage extends Page {
  static override properties = { data: { state: true }, error: { state: true }, message: { state: true } };
  declare data: QuarantineResponse | undefined;
  declare error: string;
  declare message: string;
  readonly #poller = new Poller<QuarantineResponse>(this, () => 'quarantine?limit=100', 3000, (v) => { this.data = v; this.error = ''; }, (e) => { this.error = e.message; });

  constructor() {
    super();
    this.data = undefined;
    this.error = '';
    this.message = '';
  }


  async #act(what: () => Promise<string>): Promise<void> {
    try {
      this.message = await what();
      this.error = '';
      await this.#poller.poll();
    } catch (error) {
      this.error = error instanceof Error ? error.message : String(error);
    }
  }

  #retry(entry: QuarantineEntry): void {
    void this.#act(async () => {
      const job = await send<JobView>('POST', `jobs/${entry.job.id}/retry`);
      return `Job ${job.id} is ${job.state} again.`;
    });
  }

  #delete(entry: QuarantineEntry): void {
    // The instance stays in Orthanc; only the job is forgotten, and the audit log keeps who did it.
    if (!window.confirm(`Delete job ${entry.job.id}? The instance stays in Orthanc; the audit log records the deletion.`)) return;
    void this.#act(async () => {
      const done = await send<JobDeletedResponse>('DELETE', `jobs/${entry.job.id}`);
      return `Job ${done.deleted} deleted; audit entry at ${formatTime(done.audit.at)}.`;
    });
  }

  override render(): TemplateResult {
    const data = this.data;
    return html`
      <h1 tabindex="-1">Quarantine</h1>
      <p>Instances the pipeline stopped, with the rule that stopped them. Retry after a fix, or delete the job (the original stays in Orthanc).</p>
      ${this.error === '' ? nothing : html`<p class="error" role="alert">${this.error}</p>`}
      ${this.message === '' ? nothing : html`<p class="notice" role="status">${this.message}</p>`}
      ${data === undefined ? html`<p aria-busy="true">Loading…</p>` : html`
        <p class="phi" data-testid="phi-view">${data.phiView.allowed ? 'Identifiers shown' : 'Identifiers masked'}: ${data.phiView.reason}.</p>
        ${data.entries.length === 0 ? html`<p data-testid="quarantine-empty">Nothing is quarantined.</p>` : html`
        <table data-testid="quarantine-table">
          <thead><tr><th scope="col">Job</th><th scope="col">Rule</th><th scope="col">Reason</th><th scope="col">File</th>
            <th scope="col">Patient</th><th scope="col">When</th><th scope="col">Actions</th></tr></thead>
          <tbody>${data.entries.map((e) => html`<tr data-job=${e.job.id}>
            <td><a href="jobs/${e.job.id}" @click=${follow}>Job ${e.job.id}</a></td>
            <td class="mono">${e.rule}</td>
            <td class="wrap">${e.reason}</td>
            <td class="mono wrap">${e.fileName}</td>
            <td>${e.identifiers === null ? html`<span class="masked" title="masked">•••</span>`
              : `${e.identifiers.patientName ?? '—'} (${e.identifiers.patientId ?? '—'})`}</td>
            <td>${formatTime(e.job.finishedAt)}</td>
            <td class="actions">
              <button type="button" @click=${() => { this.#retry(e); }}>Retry job ${e.job.id}</button>
              <button type="button" class="danger" @click=${() => { this.#delete(e); }}>Delete job ${e.job.id}</button>
            </td></tr>`)}</tbody>
        </table>`}`}`;
  }
}
customElements.define('aib-quarantine-page', QuarantinePage);
