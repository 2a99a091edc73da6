// The parts of dcmjs (no published types) that this project uses.
declare module 'dcmjs' {
  namespace data {
    interface DicomElement { vr: string; Value?: unknown[] }
    type DicomDataset = Record<string, DicomElement>;
    interface DicomDict { meta: DicomDataset; dict: DicomDataset; write(options?: Record<string, unknown>): ArrayBuffer }
    const DicomDict: new (meta: DicomDataset) => DicomDict;
    interface ReadOptions { ignoreErrors?: boolean; untilTag?: string; includeUntilTagValue?: boolean; forceStoreRaw?: boolean }
    const DicomMessage: { readFile(buffer: ArrayBuffer, options?: ReadOptions): DicomDict };
    const DicomMetaDictionary: {
      naturalizeDataset(dataset: DicomDataset): Record<string, unknown>;
      denaturalizeDataset(dataset: Record<string, unknown>): DicomDataset;
      /** Keyed by "(gggg,eeee)". */
      readonly dictionary: Readonly<Record<string, { readonly name?: string; readonly vr?: string } | undefined>>;
    };
  }
  type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** loglevel's root logger; getLogger('validation.dcmjs') is the one that prints "Invalid vr type". */
  const log: { setLevel(level: LogLevel): void; getLogger(name: string): { setLevel(level: LogLevel): void } };
}
