import { hostname } from 'node:os';

/** AiBridge.NodeName, or the host name and Orthanc's HTTP port: two Orthanc processes on one host are two nodes. */
export function nodeName(configured: string, orthancConfiguration: unknown): string {
  if (configured !== '') return configured;
  const config = typeof orthancConfiguration === 'object' && orthancConfiguration !== null ? orthancConfiguration as Record<string, unknown> : {};
  const port = typeof config['HttpPort'] === 'number' ? config['HttpPort'] : 8042;
  return `${hostname().replace(/[^A-Za-z0-9._-]/g, '-')}-${String(port)}`;
}
