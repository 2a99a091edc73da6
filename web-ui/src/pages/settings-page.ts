import { html, nothing, type TemplateResult } from 'lit';

import type { ConfigResponse } from '../../../plugin/core/admin-api';
import { getJson } from '../api';
import { Page } from '../page';

export class SettingsPage extends Page {
  static override properties = { config: { state: true }, error: { state: true } };
  declare config: ConfigResponse | undefined;
  declare error: string;

  constructor() {
    super();
    this.config = undefined;
    this.error = '';
  }

  override connectedCallback(): void {
    super.connectedCallback();
    getJson<ConfigResponse>('config').then((c) => { this.config = c; }, (e: unknown) => { this.error = e instanceof Error ? e.message : String(e); });
  }

  override render(): TemplateResult {
    const c = this.config;
    return html`
      <h1 tabindex="-1">Settings</h1>
      <p>The effective <code>AiBridge</code> section of Orthanc's configuration, read-only: edit Orthanc's configuration file and restart Orthanc to change it. Secrets are masked.</p>
      ${this.error === '' ? nothing : html`<p class="error" role="alert">${this.error}</p>`}
      ${c === undefined ? html`<p aria-busy="true">Loading…</p>` : html`<table data-testid="settings-table">
        <thead><tr><th scope="col">Key</th><th scope="col">Value</th><th scope="col">Set by</th><th scope="col">Meaning</th></tr></thead>
        <tbody>${c.keys.map((k) => html`<tr>
          <th scope="row" class="mono">${k.key}</th>
          <td class="mono wrap">${JSON.stringify(k.value)}${k.secret ? html` <small>(secret)</small>` : nothing}</td>
          <td>${k.isDefault ? 'default' : 'site'}</td>
          <td class="wrap">${k.description}</td></tr>`)}</tbody>
      </table>`}`;
  }
}
customElements.define('aib-settings-page', SettingsPage);
