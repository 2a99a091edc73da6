import { html, nothing, type TemplateResult } from 'lit';

import type { BulkListResponse, BulkView } from '../../../plugin/core/admin-api';
import { formatTime, Poller, send } from '../api';
import { Page } from '../page';

/** The /tools/find keys offered as fields; any DICOM keyword works through the API. */
const FIELDS = [
  { key: 'Modality', hint: 'CT' },
  { key: 'StudyDate', hint: '20240101-20241231' },
  { key: 'StudyDescription', hint: '*chest*' },
  { key: 'BodyPartExamined', hint: 'CHEST' },
  { key: 'StudyInstanceUID', hint: '1.2.3…' },
] as const;

export class BulkPage extends Page {
  static override properties = { runs: { state: true }, error: { state: true }, message: { state: true } };
  declare runs: BulkListResponse | undefined;
  declare error: string;
  declare message: string;
  readonly #poller = new Poller<BulkListResponse>(this, () => 'bulk', 2000, (v) => { this.runs = v; }, (e) => { this.error = e.message; });

  constructor() {
    super();
    this.runs = undefined;
    this.error = '';
    this.message = '';
  }


  async #start(event: Event): Promise<void> {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const query: Record<string, string> = {};
    for (const f of FIELDS) {
      const raw = form.get(f.key);
      const value = typeof raw === 'string' ? raw.trim() : '';
      if (value !== '') query[f.key] = value;
    }
    if (Object.keys(query).length === 0) {
      this.error = 'Give at least one field: a bulk run over every study needs a deliberate query (e.g. StudyDate "19000101-").';
      return;
    }
    try {
      const run = await send<BulkView>('POST', 'bulk', { query });
      this.message = `Bulk run ${run.id} queued ${run.instances} instance(s).`;
      this.error = '';
      await this.#poller.poll();
    } catch (error) {
      this.error = error instanceof Error ? error.message : String(error);
    }
  }

  override render(): TemplateResult {
    return html`
      <h1 tabindex="-1">Bulk run</h1>
      <p>Run the pipeline again over studies already in Orthanc, chosen by an Orthanc query (<code>/tools/find</code>; <code>*</code> and date ranges work).</p>
      <form class="filters" aria-label="Bulk run query" @submit=${(e: Event) => { void this.#start(e); }}>
        ${FIELDS.map((f) => html`<label>${f.key} <input name=${f.key} placeholder=${f.hint}></label>`)}
        <button type="submit">Start bulk run</button>
      </form>
      ${this.error === '' ? nothing : html`<p class="error" role="alert">${this.error}</p>`}
      ${this.message === '' ? nothing : html`<p class="notice" role="status">${this.message}</p>`}
      <h2>Runs</h2>
      ${this.runs === undefined ? html`<p aria-busy="true">Loading…</p>` : this.runs.runs.length === 0 ? html`<p>No bulk run yet.</p>` : html`
        <ul class="progress-list" data-testid="bulk-runs">${this.runs.runs.map((r) => {
          const settled = r.jobs.done + r.jobs.quarantined;
          return html`<li>
            <span>Run ${r.id}: <code>${JSON.stringify(r.query)}</code>${r.queryMasked ? ' (identifying values masked)' : ''} · ${formatTime(r.createdAt)}${r.user === null ? '' : ` · ${r.user}`}</span>
            <progress max=${Math.max(1, r.instances)} value=${settled} aria-label="Bulk run ${r.id}: ${settled} of ${r.instances} settled"></progress>
            <small>${settled} / ${r.instances}${r.finished ? ' · finished' : ''}${r.jobs.quarantined > 0 ? ` · ${r.jobs.quarantined} quarantined` : ''}</small>
          </li>`;
        })}</ul>`}`;
  }
}
customElements.define('aib-bulk-page', BulkPage);
