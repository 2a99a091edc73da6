import { html, nothing, type TemplateResult } from 'lit';

import type { JobListResponse } from '../../../plugin/core/admin-api';
import { formatTime, Poller } from '../api';
import { follow, Page } from '../page';

const STATES = ['queued', 'running', 'retrying', 'done', 'quarantined'] as const;
const PAGE_SIZE = 50;
const FILTERS = ['state', 'modality', 'model', 'from', 'to', 'q'] as const;
type Filter = (typeof FILTERS)[number];

export class JobsPage extends Page {
  static override properties = { list: { state: true }, error: { state: true }, filters: { state: true }, offset: { state: true } };
  declare list: JobListResponse | undefined;
  declare error: string;
  declare filters: Readonly<Record<Filter, string>>;
  declare offset: number;
  readonly #poller = new Poller<JobListResponse>(this, () => this.#path(), 3000, (v) => { this.list = v; this.error = ''; }, (e) => { this.error = e.message; });

  constructor() {
    super();
    this.list = undefined;
    this.error = '';
    // Filters live in the URL's query, so a filtered list can be bookmarked and shared.
    const params = new URLSearchParams(location.search);
    this.filters = Object.fromEntries(FILTERS.map((f) => [f, params.get(f) ?? ''])) as Record<Filter, string>;
    this.offset = Number(params.get('offset') ?? '0') || 0;
  }

  #path(): string {
    const params = new URLSearchParams();
    for (const f of FILTERS) if (this.filters[f] !== '') params.set(f, this.filters[f]);
    params.set('limit', String(PAGE_SIZE));
    params.set('offset', String(this.offset));
    return `jobs?${params.toString()}`;
  }


  #apply(event: Event): void {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    this.filters = Object.fromEntries(FILTERS.map((f) => { const raw = form.get(f); return [f, typeof raw === 'string' ? raw.trim() : '']; })) as Record<Filter, string>;
    this.#go(0);
  }

  #go(offset: number): void {
    this.offset = Math.max(0, offset);
    const query = new URLSearchParams();
    for (const f of FILTERS) if (this.filters[f] !== '') query.set(f, this.filters[f]);
    if (this.offset > 0) query.set('offset', String(this.offset));
    history.replaceState(null, '', `${location.pathname}${query.size > 0 ? `?${query.toString()}` : ''}`);
    void this.#poller.poll();
  }

  override render(): TemplateResult {
    const f = this.filters;
    const list = this.list;
    return html`
      <h1 tabindex="-1">Jobs</h1>
      <form class="filters" role="search" aria-label="Filter jobs" @submit=${(e: Event) => { this.#apply(e); }}>
        <label>State
          <select name="state" .value=${f.state}>
            <option value="">any</option>
            ${STATES.map((s) => html`<option value=${s} ?selected=${f.state === s}>${s}</option>`)}
          </select></label>
        <label>Modality <input name="modality" .value=${f.modality} size="6" placeholder="CT"></label>
        <label>Model <input name="model" .value=${f.model} size="14" placeholder="model id"></label>
        <label>From <input type="date" name="from" .value=${f.from}></label>
        <label>To <input type="date" name="to" .value=${f.to}></label>
        <label>Search <input type="search" name="q" .value=${f.q} placeholder="instance, UID, error"></label>
        <button type="submit">Apply filters</button>
      </form>
      ${this.error === '' ? nothing : html`<p class="error" role="alert">${this.error}</p>`}
      ${list === undefined ? html`<p aria-busy="true">Loading…</p>` : html`
        <p>${list.total} job(s)${list.total > 0 ? `, showing ${list.offset + 1}–${list.offset + list.jobs.length}` : ''}</p>
        <table data-testid="jobs-table">
          <thead><tr><th scope="col">Job</th><th scope="col">State</th><th scope="col">Stage</th><th scope="col">Modality</th>
            <th scope="col">Instance</th><th scope="col">Attempts</th><th scope="col">Created</th><th scope="col">Error</th></tr></thead>
          <tbody>${list.jobs.map((j) => html`<tr data-state=${j.state}>
            <td><a href="jobs/${j.id}" @click=${follow}>Job ${j.id}</a></td>
            <td><span class="state ${j.state}">${j.state}</span></td><td>${j.stage}</td><td>${j.modality ?? '—'}</td>
            <td class="mono">${j.instanceId.slice(0, 17)}…</td><td>${j.attempts}</td><td>${formatTime(j.createdAt)}</td>
            <td class="wrap">${j.error === null ? '' : j.error.code}</td></tr>`)}</tbody>
        </table>
        <div class="pager">
          <button type="button" ?disabled=${list.offset === 0} @click=${() => { this.#go(this.offset - PAGE_SIZE); }}>Previous page</button>
          <button type="button" ?disabled=${list.offset + list.jobs.length >= list.total} @click=${() => { this.#go(this.offset + PAGE_SIZE); }}>Next page</button>
        </div>`}`;
  }
}
customElements.define('aib-jobs-page', JobsPage);
