import { html, nothing, type TemplateResult } from 'lit';

import type { HealthResponse, StatsResponse } from '../../../plugin/core/admin-api';
import { formatMs, Poller, send, type RequestError } from '../api';
import { nodesSection } from '../nodes-section';
import { barChart, lineChart } from '../charts';
import { Page } from '../page';

const POLL_MS = 2000;

export class DashboardPage extends Page {
  static override properties = { stats: { state: true }, health: { state: true }, error: { state: true } };
  declare stats: StatsResponse | undefined;
  declare health: HealthResponse | undefined;
  declare error: string;
  // Each Poller registers itself with the page (a Lit ReactiveController) and runs while it is shown;
  // the fields only name them.
  // eslint-disable-next-line no-unused-private-class-members
  readonly #stats = new Poller<StatsResponse>(this, () => 'stats?minutes=30', POLL_MS, (v) => { this.stats = v; this.error = ''; }, (e) => { this.#fail(e); });
  readonly #health = new Poller<HealthResponse>(this, () => 'health', POLL_MS * 2, (v) => { this.health = v; }, (e) => { this.#fail(e); });

  constructor() {
    super();
    this.stats = undefined;
    this.health = undefined;
    this.error = '';
  }

  #fail(error: RequestError | Error): void {
    this.error = error.message;
  }


  override render(): TemplateResult {
    const s = this.stats;
    return html`
      <h1 tabindex="-1">Dashboard</h1>
      ${this.error === '' ? nothing : html`<p class="error" role="alert">${this.error}</p>`}
      ${s === undefined ? html`<p aria-busy="true">Loading…</p>` : this.#body(s)}`;
  }

  #body(s: StatsResponse): TemplateResult {
    const h = this.health;
    const total = (key: 'deidentified' | 'annotated' | 'delivered' | 'errors'): number => s.throughput.reduce((sum, b) => sum + b[key], 0);
    const queue = s.jobs.queued + s.jobs.running + s.jobs.retrying;
    const minuteLabel = (iso: string | undefined): string => (iso === undefined ? '' : new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }));
    return html`
      <section class="cards" aria-label="Totals">
        <div class="card"><span class="figure" data-testid="jobs-done">${s.jobs.done}</span><span>instances de-identified</span></div>
        <div class="card"><span class="figure">${s.annotations.done}</span><span>annotations delivered</span></div>
        <div class="card"><span class="figure" data-testid="queue-depth">${queue}</span><span>instances in the queue</span></div>
        <div class="card ${s.jobs.quarantined > 0 ? 'warn' : ''}"><span class="figure" data-testid="quarantined">${s.jobs.quarantined}</span><span>quarantined</span></div>
        <div class="card"><span class="figure">${formatMs(s.latency.storeToResult.p50Ms)} / ${formatMs(s.latency.storeToResult.p95Ms)}</span>
          <span>store → result p50 / p95 (${s.latency.storeToResult.count} in ${s.minutes} min)</span></div>
        <div class="card"><span class="figure">${formatMs(s.latency.storeToDeidentified.p50Ms)} / ${formatMs(s.latency.storeToDeidentified.p95Ms)}</span>
          <span>store → de-identified p50 / p95 (${s.latency.storeToDeidentified.count})</span></div>
      </section>

      <section aria-labelledby="throughput-h">
        <h2 id="throughput-h">Throughput per minute, last ${s.minutes} min</h2>
        ${lineChart('Instances per minute', [
          { name: `de-identified (${total('deidentified')})`, className: 's-deid', values: s.throughput.map((b) => b.deidentified) },
          { name: `annotated (${total('annotated')})`, className: 's-annotated', values: s.throughput.map((b) => b.annotated) },
          { name: `delivered (${total('delivered')})`, className: 's-delivered', values: s.throughput.map((b) => b.delivered) },
          { name: `errors (${total('errors')})`, className: 's-errors', values: s.throughput.map((b) => b.errors) },
        ], [minuteLabel(s.throughput[0]?.at), minuteLabel(s.throughput[s.throughput.length - 1]?.at)])}
      </section>

      <div class="columns">
        <section aria-labelledby="depth-h">
          <h2 id="depth-h">Queue depth per stage</h2>
          ${s.depths.length === 0 ? html`<p>Nothing waiting.</p>`
            : barChart('Unfinished work per stage', s.depths.map((d) => ({ label: `${d.pipeline} · ${d.state} · ${d.stage}`, value: d.count })))}
        </section>
        <section aria-labelledby="running-h">
          <h2 id="running-h">Running work</h2>
          ${s.running.length === 0 ? html`<p>No work under way.</p>` : html`<ul class="progress-list">
            ${s.running.map((r) => html`<li>
              <span>${r.label} <small>${r.state}</small></span>
              ${r.total === null
                ? html`<progress aria-label="${r.label}: ${r.done} so far"></progress> <small>${r.done} so far</small>`
                : html`<progress max=${r.total} value=${Math.min(r.done, r.total)} aria-label="${r.label}: ${r.done} of ${r.total}"></progress>
                  <small>${r.done} / ${r.total}</small>`}
            </li>`)}</ul>`}
        </section>
      </div>

      <section aria-labelledby="errors-h">
        <h2 id="errors-h">Recent errors</h2>
        ${s.recentErrors.length === 0 ? html`<p>None.</p>` : html`<table>
          <thead><tr><th scope="col">When</th><th scope="col">What</th><th scope="col">Event</th><th scope="col">Detail</th></tr></thead>
          <tbody>${s.recentErrors.map((e) => html`<tr>
            <td>${new Date(e.at).toLocaleTimeString()}</td>
            <td>${e.pipeline === 'jobs' ? html`<a href="jobs/${e.id}">job ${e.id}</a>` : html`annotation ${e.id}`}</td>
            <td>${e.event}</td><td class="wrap">${e.detail ?? ''}</td></tr>`)}</tbody></table>`}
      </section>

      ${h === undefined ? nothing : html`<section aria-labelledby="health-h">
        <h2 id="health-h">Gateway</h2>
        <dl class="facts">
          <dt>Version</dt><dd>${h.version} (Orthanc ${h.orthancVersion})</dd>
          <dt>Up</dt><dd>${formatMs(h.uptimeSeconds * 1000)}</dd>
          <dt>De-identification</dt><dd>${h.deid.profile} profile, ${h.deid.readyWorkers}/${h.deid.workers} sealed workers ready</dd>
          ${refusedSeals(h).length === 0 ? nothing : html`<dt>Refused (could not seal)</dt>
            <dd class="wrap">${refusedSeals(h).map((r) => html`<div>${r}</div>`)}</dd>`}
          <dt>Models serving</dt><dd>${h.models.length === 0 ? 'none' : h.models.map((m) => `${m.name} ${m.version}`).join(', ')}</dd>
        </dl></section>`}
      ${h?.cluster === undefined ? nothing : nodesSection(h.cluster, (name, action) => { this.#setNode(name, action); })}`;
  }

  #setNode(name: string, action: 'drain' | 'resume'): void {
    send('POST', `nodes/${encodeURIComponent(name)}/${action}`).then(() => { void this.#health.poll(); }, (e: unknown) => { this.#fail(e instanceof Error ? e : new Error(String(e))); });
  }
}
/** Sandboxed processes that could not seal fully: they take no work until the kernel or the setup is fixed. */
function refusedSeals(h: HealthResponse): string[] {
  return [
    ...h.deid.refused.map((r) => `de-identification worker ${String(r.process)}: ${r.reason}`),
    ...(h.annotator?.refused ?? []).map((r) => `annotator ${String(r.process)}: ${r.reason}`),
    ...(h.uplink?.refused ?? []).map((r) => `uplink: ${r.reason}`),
  ];
}

customElements.define('aib-dashboard-page', DashboardPage);
