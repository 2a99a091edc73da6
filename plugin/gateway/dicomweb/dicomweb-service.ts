/**
 * The one DICOMweb client of the gateway: dicomweb-client (dcmjs-org, the client OHIF uses) for
 * STOW-RS and QIDO-RS. dicomweb-client is written for browsers: every request is an
 * XMLHttpRequest (getRequestOptions: `request.instance || new XMLHttpRequest()`), and Node 20 has
 * none, so each call is handed an xhr2 instance, the XMLHttpRequest of the WHATWG spec over
 * node:http. No global is patched.
 *
 * Answers keep their HTTP status for the callers' own error codes and retry decisions: the client
 * resolves 200/202/204 alike and rejects anything else with an Error carrying `status` (0: no
 * answer at all) and `response`; the status of a resolved call is read from the request instance
 * this module handed it, so a STOW-RS 202 (stored with failures or warnings) stays a 202.
 */
import { api } from 'dicomweb-client';
import XMLHttpRequestOnNode from 'xhr2';

/** One answer: `status` 0 when none came (refused, reset, unreachable). */
export interface DicomwebAnswer<T> {
  readonly status: number;
  readonly body: T;
}

/** The part of dicomweb-client's DICOMwebClient used here, typed (its own .d.ts declares searches as synchronous `any[]`). */
interface Client {
  storeInstances(options: { datasets: ArrayBuffer[]; studyInstanceUID?: string; request: { instance: XMLHttpRequestOnNode } }): Promise<unknown>;
  searchForSeries(options: { queryParams: Record<string, string>; request: { instance: XMLHttpRequestOnNode } }): Promise<unknown>;
}

function isHttpFailure(error: unknown): error is Error & { status: number; response: unknown } {
  return error instanceof Error && typeof (error as { status?: unknown }).status === 'number';
}

/** The bytes of one Part 10 object as the ArrayBuffer dicomweb-client encodes. */
function arrayBufferOf(bytes: Buffer): ArrayBuffer {
  return new Uint8Array(bytes).buffer;
}

export class DicomwebService {
  readonly #client: Client;

  /** `baseUrl`: the DICOMweb root (e.g. http://127.0.0.1:8042/dicom-web); `authorization`: a whole Authorization header value. */
  constructor(readonly baseUrl: string, authorization?: string) {
    this.#client = new api.DICOMwebClient({
      url: baseUrl.replace(/\/$/, ''),
      // The DICOM JSON answer of PS3.18 10.5.3 (Orthanc's default too), not the XML one.
      headers: { Accept: 'application/dicom+json', ...(authorization === undefined ? {} : { Authorization: authorization }) },
      // verbose prints the whole request, Authorization header included, to the console on failure.
      verbose: false,
      singlepart: false,
    }) as unknown as Client;
  }

  /**
   * STOW-RS (PS3.18 10.5) of Part 10 objects, into one study or (undefined) into the studies they
   * name; the body is the server's text answer.
   */
  async storeInstances(studyInstanceUid: string | undefined, objects: readonly Buffer[]): Promise<DicomwebAnswer<string>> {
    const instance = new XMLHttpRequestOnNode();
    try {
      const body = await this.#client.storeInstances({
        ...(studyInstanceUid === undefined ? {} : { studyInstanceUID: studyInstanceUid }), datasets: objects.map(arrayBufferOf), request: { instance },
      });
      return { status: instance.status, body: typeof body === 'string' ? body : '' };
    } catch (error) {
      if (!isHttpFailure(error)) throw error;
      return { status: error.status, body: typeof error.response === 'string' ? error.response : '' };
    }
  }

  /** QIDO-RS (PS3.18 10.6) at series level; the body is the parsed DICOM JSON (204: an empty list). */
  async searchForSeries(queryParams: Record<string, string>): Promise<DicomwebAnswer<unknown>> {
    const instance = new XMLHttpRequestOnNode();
    try {
      const body = await this.#client.searchForSeries({ queryParams, request: { instance } });
      return { status: instance.status, body };
    } catch (error) {
      if (!isHttpFailure(error)) throw error;
      return { status: error.status, body: error.response };
    }
  }
}
