// The gateway's door to Orthanc: the typed, generated SDK client and the
// hand-written pieces around it. Nothing outside plugin/sdk imports generated/.
export * from './generated/enums';
export { SdkClient } from './generated/functions';
export type { SdkArgValue, SdkCallReply, SdkCallTransport } from './call-transport';
export { OrthancSdkError } from './orthanc-sdk-error';
export { PluginConnection, jsonReply } from './plugin-connection';
export type { ChangeNotice, HelloFrame, HttpReply, HttpRequestFrame } from './plugin-connection';
export { OrthancRest, parseChangesPage } from './orthanc-rest';
export type { ChangesPage, OrthancChange, OrthancSystem } from './orthanc-rest';
