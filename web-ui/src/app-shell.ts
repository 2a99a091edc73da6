import { html, type TemplateResult } from 'lit';

import { uiRoot } from './api';
import { follow, Page } from './page';
import './pages/dashboard-page';
import './pages/jobs-page';
import './pages/job-detail-page';
import './pages/quarantine-page';
import './pages/models-page';
import './pages/privacy-page';
import './pages/settings-page';
import './pages/bulk-page';
import './pages/reports-page';

const NAV: readonly { readonly route: string; readonly label: string }[] = [
  { route: '', label: 'Dashboard' },
  { route: 'jobs', label: 'Jobs' },
  { route: 'quarantine', label: 'Quarantine' },
  { route: 'bulk', label: 'Bulk run' },
  { route: 'models', label: 'Models' },
  { route: 'reports', label: 'Reports' },
  { route: 'privacy', label: 'Privacy' },
  { route: 'settings', label: 'Settings' },
];

/** The route below /ai-bridge/ui/, without slashes at either end. */
function currentRoute(): string {
  const path = decodeURIComponent(location.pathname);
  const root = decodeURIComponent(uiRoot.pathname);
  return (path.startsWith(root) ? path.slice(root.length) : '').replace(/^\/+|\/+$/g, '');
}

export class AppShell extends Page {
  static override properties = { route: { state: true } };
  declare route: string;

  constructor() {
    super();
    this.route = currentRoute();
  }

  readonly #onNavigate = (): void => {
    this.route = currentRoute();
    window.scrollTo(0, 0);
    // Move focus to the new page's heading, so keyboard and screen-reader users land on it.
    void this.updateComplete.then(() => { this.querySelector<HTMLElement>('main h1')?.focus(); });
  };

  override connectedCallback(): void {
    super.connectedCallback();
    window.addEventListener('popstate', this.#onNavigate);
    window.addEventListener('aib-navigate', this.#onNavigate);
  }

  override disconnectedCallback(): void {
    window.removeEventListener('popstate', this.#onNavigate);
    window.removeEventListener('aib-navigate', this.#onNavigate);
    super.disconnectedCallback();
  }

  #page(): TemplateResult {
    const [first = '', second] = this.route.split('/');
    switch (first) {
      case '': return html`<aib-dashboard-page></aib-dashboard-page>`;
      case 'jobs': return second === undefined ? html`<aib-jobs-page></aib-jobs-page>` : html`<aib-job-detail-page .jobId=${second}></aib-job-detail-page>`;
      case 'quarantine': return html`<aib-quarantine-page></aib-quarantine-page>`;
      case 'bulk': return html`<aib-bulk-page></aib-bulk-page>`;
      case 'models': return html`<aib-models-page></aib-models-page>`;
      case 'reports': return html`<aib-reports-page></aib-reports-page>`;
      case 'privacy': return html`<aib-privacy-page></aib-privacy-page>`;
      case 'settings': return html`<aib-settings-page></aib-settings-page>`;
      default: return html`<h1 tabindex="-1">Not found</h1><p>No page <code>${this.route}</code> in the admin UI.</p>`;
    }
  }

  override render(): TemplateResult {
    const section = this.route.split('/')[0] ?? '';
    return html`
      <header>
        <span class="brand">Orthanc AI bridge</span>
        <nav aria-label="Admin pages">
          <ul>
            ${NAV.map((item) => html`<li><a href=${item.route === '' ? './' : item.route} @click=${follow}
              aria-current=${section === item.route ? 'page' : 'false'}>${item.label}</a></li>`)}
          </ul>
        </nav>
      </header>
      <main id="main">${this.#page()}</main>`;
  }
}
customElements.define('aib-app', AppShell);
