import { html, nothing, type TemplateResult } from 'lit';

import type { CategoryRequestsResponse, CategoryRequestView, ModelListResponse, ModelView } from '../../../plugin/core/admin-api';
import { formatTime, getJson, RequestError, send } from '../api';
import { Page } from '../page';

type State = { readonly kind: 'loading' } | { readonly kind: 'unavailable'; readonly why: string } | { readonly kind: 'ready'; readonly data: ModelListResponse; readonly requests: CategoryRequestsResponse };

export class ModelsPage extends Page {
  static override properties = { state: { state: true }, error: { state: true }, message: { state: true } };
  declare state: State;
  declare error: string;
  declare message: string;

  constructor() {
    super();
    this.state = { kind: 'loading' };
    this.error = '';
    this.message = '';
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.#load();
  }

  async #load(): Promise<void> {
    try {
      const [data, requests] = await Promise.all([getJson<ModelListResponse>('models'), getJson<CategoryRequestsResponse>('central/requests')]);
      this.state = { kind: 'ready', data, requests };
    } catch (error) {
      // Annotation switched off (503 AIB_API_UNAVAILABLE) or a gateway without the registry (404): say so rather than show an error.
      if (error instanceof RequestError && (error.status === 404 || error.status === 503)) this.state = { kind: 'unavailable', why: error.message };
      else this.error = error instanceof Error ? error.message : String(error);
    }
  }

  async #rollback(model: ModelView): Promise<void> {
    if (!window.confirm(`Roll ${model.name} back from ${model.active ?? '—'} to ${model.rollbackTo ?? '—'}?`)) return;
    try {
      const after = await send<ModelView>('POST', `models/${encodeURIComponent(model.id)}/rollback`);
      this.message = `${after.name} now serves ${after.active ?? 'nothing'}.`;
      await this.#load();
    } catch (error) {
      this.error = error instanceof Error ? error.message : String(error);
    }
  }

  /** The administrator's decision: nothing is searched for a request before it is approved. */
  async #decide(request: CategoryRequestView, approve: boolean): Promise<void> {
    const category = `${request.category.modality} ${request.category.bodyPart}`;
    let body: { reason: string } | undefined;
    if (approve) {
      if (!window.confirm(`Approve the central server's request for ${String(request.studiesWanted)} ${category} studies? Matching studies are de-identified and uploaded, within this site's limits.`)) return;
    } else {
      const reason = window.prompt(`Decline the request for ${category} studies? A reason for this site's records (not sent to the central server):`, '');
      if (reason === null) return;
      body = { reason };
    }
    try {
      const after = await send<CategoryRequestView>('POST', `central/requests/${encodeURIComponent(request.id)}/${approve ? 'approve' : 'decline'}`, body);
      this.message = approve
        ? `Request ${request.id} approved for ${String(after.decision?.studiesGranted ?? 0)} ${category} studies; it is searched on the next poll.`
        : `Request ${request.id} declined.`;
      await this.#load();
    } catch (error) {
      this.error = error instanceof Error ? error.message : String(error);
    }
  }

  override render(): TemplateResult {
    return html`
      <h1 tabindex="-1">Models</h1>
      ${this.error === '' ? nothing : html`<p class="error" role="alert">${this.error}</p>`}
      ${this.message === '' ? nothing : html`<p class="notice" role="status">${this.message}</p>`}
      ${this.#body()}`;
  }

  #body(): TemplateResult {
    const state = this.state;
    if (state.kind === 'loading') return html`<p aria-busy="true">Loading…</p>`;
    if (state.kind === 'unavailable') {
      return html`<p class="notice" data-testid="models-unavailable">The model registry is not available: ${state.why}
        (<code>AiBridge.Annotate</code> must be true for models to serve).</p>`;
    }
    const data = state.data;
    return html`
      ${data.central === null ? html`<p>No central registry configured.</p>` : html`<dl class="facts">
        <dt>Central registry</dt><dd>${data.central.url}</dd>
        <dt>Last poll</dt><dd>${formatTime(data.central.lastPollAt)}${data.central.catalogueSerial === null ? '' : `, catalogue ${data.central.catalogueSerial}`}</dd>
        ${data.central.lastError === null ? nothing : html`<dt>Last error</dt><dd class="wrap">${data.central.lastError}</dd>`}</dl>`}
      ${data.models.length === 0 ? html`<p>No model installed.</p>` : data.models.map((m) => html`
        <section class="model" data-testid="model" aria-label="Model ${m.name}">
          <h2>${m.name} <small class="mono">${m.id}</small></h2>
          <p>${m.unit} · ${m.modalities.join(', ')} · ${m.bodyParts.join(', ') || 'any body part'} · serving <strong>${m.active ?? 'none'}</strong></p>
          <table>
            <thead><tr><th scope="col">Version</th><th scope="col">Source</th><th scope="col">Installed</th><th scope="col">Signature</th><th scope="col">Commissioning</th></tr></thead>
            <tbody>${m.versions.map((v) => html`<tr class=${v.version === m.active ? 'active' : ''}>
              <td>${v.version}${v.version === m.active ? ' (serving)' : ''}</td><td>${v.source}</td><td>${formatTime(v.installedAt)}</td>
              <td>${v.signature.verified ? 'verified' : 'NOT verified'} (${v.signature.keyId})</td>
              <td>${v.commissioning === null ? '—' : `${v.commissioning.passed ? 'passed' : 'failed'} ${(v.commissioning.fraction * 100).toFixed(0)}% (mark ${(v.commissioning.passMark * 100).toFixed(0)}%)`}</td>
            </tr>`)}</tbody>
          </table>
          ${m.rollbackTo === null ? nothing : html`<button type="button" @click=${() => { void this.#rollback(m); }}>Roll ${m.name} back to ${m.rollbackTo}</button>`}
        </section>`)}
      ${this.#requests(state.requests)}`;
  }

  /** The central server's requests for studies of a new scan category, and what this site did for each. */
  #requests(r: CategoryRequestsResponse): TemplateResult {
    return html`
      <section data-testid="category-requests" aria-label="Category requests">
        <h2>Category requests from the central server</h2>
        ${!r.answering ? html`<p>This site does not answer category requests (no <code>AiBridge.Central</code>, or <code>AnswerCategoryRequests</code> false).</p>`
          : html`
          ${r.limits === null ? nothing : html`<p data-testid="category-limits">This site answers only
            ${r.limits.categories.length === 0 ? html`<strong>no category</strong> (list them in <code>AiBridge.Central.CategoryRequestLimits.Categories</code>)`
              : r.limits.categories.map((c) => `${c.modality} ${c.bodyPart}`).join(', ')},
            at most ${r.limits.studiesPerRequest} studies per request and ${r.limits.studiesPerMonth} per month
            (${r.limits.studiesThisMonth} searched this month). Nothing runs before an administrator approves it.</p>`}
          ${r.requests.length === 0 ? html`<p>No request received.</p>` : html`
          <table>
            <thead><tr><th scope="col">Category</th><th scope="col">Wanted</th><th scope="col">Decision</th><th scope="col">Search</th><th scope="col">Studies found</th>
              <th scope="col">De-identified</th><th scope="col">Uploaded</th><th scope="col">Refused</th><th scope="col">Updated</th></tr></thead>
            <tbody>${r.requests.map((q) => html`<tr data-request=${q.id}>
              <td>${q.category.modality} ${q.category.bodyPart}${q.open ? '' : ' (closed)'}<br><small>${q.reason}</small></td><td>${q.studiesWanted}</td>
              <td>${this.#decision(q)}</td>
              <td>${q.search.state}${q.search.error === null ? '' : html` <span class="error">${q.search.error}</span>`}</td>
              <td>${q.search.studiesFound}</td><td>${q.search.instancesDeidentified} / ${q.search.instances}</td>
              <td>${q.uploads.instancesUploaded} instances, ${q.uploads.studiesUploaded} studies</td><td>${q.uploads.instancesRefused}</td>
              <td>${formatTime(q.updatedAt)}</td></tr>`)}</tbody>
          </table>`}`}
      </section>`;
  }

  #decision(q: CategoryRequestView): TemplateResult {
    if (q.search.state === 'awaiting-approval') {
      const what = `${q.category.modality} ${q.category.bodyPart} request ${q.id}`;
      return html`awaiting approval
        <button type="button" @click=${() => { void this.#decide(q, true); }} aria-label="Approve ${what}">Approve</button>
        <button type="button" @click=${() => { void this.#decide(q, false); }} aria-label="Decline ${what}">Decline</button>`;
    }
    const d = q.decision;
    if (d === null) return html`—`;
    const who = d.by === 'policy' ? "this site's limits" : d.by ?? 'an administrator';
    return html`${d.studiesGranted === null ? 'declined' : `approved for ${String(d.studiesGranted)}`} by ${who}, ${formatTime(d.at)}${d.reason === null || d.reason === '' ? '' : html`<br><small>${d.reason}</small>`}`;
  }
}
customElements.define('aib-models-page', ModelsPage);
