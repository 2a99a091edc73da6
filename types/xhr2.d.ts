// xhr2 ships no types. It is the XMLHttpRequest of the WHATWG spec over node:http; the gateway only
// hands instances to dicomweb-client, so the instance is declared as little more than opaque.
declare module 'xhr2' {
  class XMLHttpRequest {
    open(method: string, url: string, async?: boolean): void;
    setRequestHeader(name: string, value: string): void;
    send(body?: unknown): void;
    readonly status: number;
  }
  export = XMLHttpRequest;
}
