import type { SdkCallTransport } from './call-transport';
import { OrthancSdkError } from './orthanc-sdk-error';
import type { SdkClient } from './generated/functions';

/** Wire name of the plugin's own call (native/orthanc/spool-instance.h); not an OrthancCPlugin.h function. */
const SPOOL_DICOM_FOR_INSTANCE = 'SpoolDicomForInstance';

/** One row of Orthanc's GET /changes. */
export interface OrthancChange {
  readonly Seq: number;
  readonly ChangeType: string;
  readonly ResourceType: string;
  readonly ID: string;
  readonly Path: string;
  readonly Date: string;
}

export interface ChangesPage {
  readonly Changes: readonly OrthancChange[];
  readonly Done: boolean;
  readonly Last: number;
}

export interface OrthancSystem {
  readonly Version: string;
  readonly DicomAet: string;
  readonly Name: string;
  readonly ApiVersion: number;
}

/**
 * Typed wrappers over Orthanc's built-in REST API, reached through the SDK
 * (never over TCP: the gateway is a plugin, not a client). Each answer is
 * checked at this edge so the rest of the gateway works with known shapes.
 */
export class OrthancRest {
  readonly #sdk: SdkClient;
  readonly #transport: SdkCallTransport;

  /** `transport`: the socket the SDK client calls through, for the plugin's own calls. */
  constructor(sdk: SdkClient, transport: SdkCallTransport) {
    this.#sdk = sdk;
    this.#transport = transport;
  }

  async system(): Promise<OrthancSystem> {
    const value = await this.getJson('/system');
    const record = asRecord(value, '/system');
    return {
      Version: asString(record['Version'], '/system Version'),
      DicomAet: asString(record['DicomAet'], '/system DicomAet'),
      Name: asString(record['Name'], '/system Name'),
      ApiVersion: asNumber(record['ApiVersion'], '/system ApiVersion'),
    };
  }

  async changes(since: number, limit: number): Promise<ChangesPage> {
    return parseChangesPage(await this.getJson(`/changes?since=${since}&limit=${limit}`));
  }

  /** The newest change only: where a first start with no history begins. */
  async lastChange(): Promise<ChangesPage> {
    return parseChangesPage(await this.getJson('/changes?last'));
  }

  /**
   * Has the plugin write the instance's DICOM (OrthancPluginGetDicomForInstance, so
   * compression and storage plugins are Orthanc's business) to `path`, a file directly
   * in phi/spool, atomically (temporary name, then rename): the bytes never cross the
   * socket nor the gateway's heap. Resolves to the bytes written.
   */
  async spoolInstance(instanceId: string, path: string): Promise<number> {
    const reply = await this.#transport.call(SPOOL_DICOM_FOR_INSTANCE, { instanceId, path });
    if (typeof reply.value !== 'number') throw new OrthancSdkError(SPOOL_DICOM_FOR_INSTANCE, -1, 'the result value is not a number');
    return reply.value;
  }

  /** Orthanc's record of an instance's DICOM file (GET /instances/{id}/attachments/dicom/info). */
  async dicomAttachment(instanceId: string): Promise<{ readonly uuid: string; readonly compressedSize: number; readonly uncompressedSize: number }> {
    const uri = `/instances/${instanceId}/attachments/dicom/info`;
    const record = asRecord(await this.getJson(uri), uri);
    return {
      uuid: asString(record['Uuid'], `${uri} Uuid`),
      compressedSize: asNumber(record['CompressedSize'], `${uri} CompressedSize`),
      uncompressedSize: asNumber(record['UncompressedSize'], `${uri} UncompressedSize`),
    };
  }

  /** POST to Orthanc's REST API (e.g. /tools/find) and parse the JSON answer: bytes or text as given, anything else as JSON. */
  async postJson(uri: string, body: unknown): Promise<unknown> {
    const bytes = await this.#sdk.restApiPost(uri, Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body), 'utf8'));
    try {
      return JSON.parse(bytes.toString('utf8')) as unknown;
    } catch {
      throw new OrthancSdkError('RestApiPost', -1, `POST ${uri} did not answer JSON`);
    }
  }

  /** DELETE on Orthanc's REST API (e.g. /instances/{id}); an Orthanc error rejects. */
  async delete(uri: string): Promise<void> {
    await this.#sdk.restApiDelete(uri);
  }

  async getJson(uri: string): Promise<unknown> {
    const bytes = await this.#sdk.restApiGet(uri);
    try {
      return JSON.parse(bytes.toString('utf8')) as unknown;
    } catch {
      throw new OrthancSdkError('RestApiGet', -1, `GET ${uri} did not answer JSON`);
    }
  }
}

export function parseChangesPage(value: unknown): ChangesPage {
  const record = asRecord(value, '/changes');
  const changes = record['Changes'];
  if (!Array.isArray(changes)) throw new OrthancSdkError('RestApiGet', -1, '/changes has no Changes array');
  return {
    Done: record['Done'] === true,
    Last: asNumber(record['Last'], '/changes Last'),
    Changes: changes.map((entry: unknown) => {
      const change = asRecord(entry, '/changes entry');
      return {
        Seq: asNumber(change['Seq'], 'change Seq'),
        ChangeType: asString(change['ChangeType'], 'change ChangeType'),
        ResourceType: asString(change['ResourceType'], 'change ResourceType'),
        ID: asString(change['ID'], 'change ID'),
        Path: asString(change['Path'], 'change Path'),
        Date: asString(change['Date'], 'change Date'),
      };
    }),
  };
}

function asRecord(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new OrthancSdkError('RestApiGet', -1, `${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

function asString(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new OrthancSdkError('RestApiGet', -1, `${what} is not a string`);
  return value;
}

function asNumber(value: unknown, what: string): number {
  if (typeof value !== 'number') throw new OrthancSdkError('RestApiGet', -1, `${what} is not a number`);
  return value;
}
