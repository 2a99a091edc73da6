import { html, nothing, type TemplateResult } from 'lit';

import type { EventView, JobDetailResponse, JobView } from '../../../plugin/core/admin-api';
import { formatMs, formatTime, orthancRoot, Poller, send } from '../api';
import { follow, Page } from '../page';

/** Which process does a stage's work (DESIGN.md "Processes"). */
const WORKER_BY_STAGE: Readonly<Record<string, string>> = {
  received: 'change follower (gateway)',
  fetch: 'gateway',
  deidentify: 'sealed de-identification worker',
  'queue-annotation': 'gateway',
  annotate: 'annotator (de-identified zone)',
  relink: 'gateway (relink through the vault)',
  deliver: 'gateway (STOW-RS)',
};

export class JobDetailPage extends Page {
  static override properties = { jobId: {}, job: { state: true }, error: { state: true }, message: { state: true } };
  declare jobId: string;
  declare job: JobDetailResponse | undefined;
  declare error: string;
  declare message: string;
  readonly #poller = new Poller<JobDetailResponse>(this, () => `jobs/${encodeURIComponent(this.jobId)}`, 3000,
    (v) => { this.job = v; this.error = ''; }, (e) => { this.error = e.message; });

  constructor() {
    super();
    this.jobId = '';
    this.job = undefined;
    this.error = '';
    this.message = '';
  }


  async #retry(): Promise<void> {
    try {
      const job = await send<JobView>('POST', `jobs/${this.jobId}/retry`);
      this.message = `Job ${job.id} is ${job.state} again.`;
      await this.#poller.poll();
    } catch (error) {
      this.error = error instanceof Error ? error.message : String(error);
    }
  }

  override render(): TemplateResult {
    const job = this.job;
    return html`
      <p><a href="jobs" @click=${follow}>← All jobs</a></p>
      <h1 tabindex="-1">Job ${this.jobId}</h1>
      ${this.error === '' ? nothing : html`<p class="error" role="alert">${this.error}</p>`}
      ${this.message === '' ? nothing : html`<p class="notice" role="status">${this.message}</p>`}
      ${job === undefined ? html`<p aria-busy="true">Loading…</p>` : this.#body(job)}`;
  }

  #body(job: JobDetailResponse): TemplateResult {
    const canRetry = job.state === 'done' || job.state === 'quarantined' || job.state === 'retrying';
    return html`
      <dl class="facts">
        <dt>State</dt><dd><span class="state ${job.state}" data-testid="job-state">${job.state}</span> (stage ${job.stage}, ${job.attempts} attempt(s))</dd>
        <dt>Orthanc instance</dt><dd class="mono">${job.instanceId}</dd>
        <dt>Modality</dt><dd>${job.modality ?? '—'}</dd>
        <dt>Outcome</dt><dd>${job.outcome ?? '—'}</dd>
        ${job.error === null ? nothing : html`<dt>Error</dt><dd class="wrap">${job.error.code}: ${job.error.message}</dd>`}
        <dt>De-identified copy</dt><dd class="mono">${job.deidPath ?? '—'}</dd>
      </dl>
      <p class="actions">
        ${canRetry ? html`<button type="button" @click=${() => { void this.#retry(); }}>Retry job ${job.id}</button>` : nothing}
        ${job.study === null ? html`<span>The instance is no longer in Orthanc.</span>` : html`
          <a href=${new URL(job.study.explorerPath.replace(/^\//, ''), orthancRoot).toString()} target="_blank" rel="noopener">Open study in Orthanc Explorer</a>
          ${job.study.viewerUrl === null ? nothing : html`<a href=${job.study.viewerUrl} target="_blank" rel="noopener">Open study in the viewer</a>`}`}
      </p>
      <h2>Timeline</h2>
      ${timeline(job.events)}
      ${job.annotations.length === 0 ? nothing : html`
        <h2>Annotations fed by this instance</h2>
        <table>
          <thead><tr><th scope="col">Annotation</th><th scope="col">Model</th><th scope="col">State</th><th scope="col">Members</th><th scope="col">Results</th></tr></thead>
          <tbody>${job.annotations.map((a) => html`<tr><td>${a.id} (${a.unit})</td><td>${a.model.id}@${a.model.version}</td>
            <td><span class="state ${a.state}">${a.state}</span> ${a.stage}</td><td>${a.members}${a.expectedInstances === null ? '' : ` / ${a.expectedInstances}`}</td>
            <td>${a.results.length}${a.viewerUrl === undefined || a.viewerUrl === null ? nothing
              : html` <a href=${a.viewerUrl} target="_blank" rel="noopener" data-testid="annotation-viewer-link">Open results in the viewer</a>`}</td></tr>`)}</tbody>
        </table>`}`;
  }
}

/** Each event with the time spent until the next one, and the process that did the work. */
function timeline(events: readonly EventView[]): TemplateResult {
  return html`<ol class="timeline" data-testid="timeline">
    ${events.map((e, i) => {
      const next = events[i + 1];
      const took = next === undefined ? null : Date.parse(next.at) - Date.parse(e.at);
      return html`<li>
        <time datetime=${e.at}>${formatTime(e.at)}</time>
        <strong>${e.event}</strong> ${e.stage}
        <span class="worker">${WORKER_BY_STAGE[e.stage] ?? 'gateway'}</span>
        ${took === null ? nothing : html`<span class="took">${formatMs(took)}</span>`}
        ${e.event === 'stages' ? stageList(e.detail) : e.detail === null ? nothing : html`<div class="wrap detail">${e.detail}</div>`}
      </li>`;
    })}</ol>`;
}

/**
 * A run's stages arrive as one event (the gateway writes a job's run in one
 * transaction), its detail "fetch 18 ms, deidentify 1625 ms, …": each stage
 * is listed with the process that did its work.
 */
function stageList(detail: string | null): TemplateResult | typeof nothing {
  if (detail === null) return nothing;
  const stages = detail.split(', ').map((part) => /^([\w-]+) (\d+) ms$/.exec(part));
  if (stages.some((m) => m === null)) return html`<div class="wrap detail">${detail}</div>`;
  return html`<ul class="stages">${stages.map((m) => html`<li>${m?.[1]} <span class="worker">${WORKER_BY_STAGE[m?.[1] ?? ''] ?? 'gateway'}</span>
    <span class="took">${formatMs(Number(m?.[2]))}</span></li>`)}</ul>`;
}
customElements.define('aib-job-detail-page', JobDetailPage);
