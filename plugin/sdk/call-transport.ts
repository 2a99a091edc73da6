/** What the generated SDK client needs from the socket: one call, one reply. */
export type SdkArgValue = string | number | null;

export interface SdkCallReply {
  /** JSON `value` of the result frame: a string, a number, or null. */
  readonly value: unknown;
  /** Result frame body: bytes of an OrthancPluginMemoryBuffer result. */
  readonly body: Buffer | undefined;
}

export interface SdkCallTransport {
  /** Rejects with OrthancSdkError when the plugin answers ok=false. */
  call(fn: string, args: Readonly<Record<string, SdkArgValue>>, body?: Buffer): Promise<SdkCallReply>;
}
