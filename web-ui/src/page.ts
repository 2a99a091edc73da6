import { LitElement } from 'lit';

/** Pages render into the light DOM: one stylesheet, and labels and focus work across the whole document. */
export class Page extends LitElement {
  protected override createRenderRoot(): HTMLElement {
    return this;
  }
}

/** Client-side navigation inside the UI (history API; the gateway answers index.html for every route). */
export function navigate(route: string): void {
  history.pushState(null, '', new URL(route, document.baseURI));
  window.dispatchEvent(new Event('aib-navigate'));
}

/** Link click handler: plain left clicks stay in the app, others (new tab) go to the browser. */
export function follow(event: MouseEvent): void {
  const anchor = (event.currentTarget as HTMLAnchorElement | null);
  if (anchor === null || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  navigate(anchor.getAttribute('href') ?? './');
}
