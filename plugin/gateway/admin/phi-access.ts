/** Who may see identifiers in the admin UI, decided per request. */
export interface PhiAccessPolicy {
  /** AiBridge.PhiViewers: Orthanc user names allowed to see identifiers. */
  readonly viewers: readonly string[];
  /**
   * Whether Orthanc checks credentials before forwarding (AuthenticationEnabled,
   * or its default with RemoteAccessAllowed). Without it the Authorization
   * header is whatever the client typed, so it proves nothing.
   */
  readonly orthancAuthenticates: boolean;
}

export interface PhiAccess {
  readonly allowed: boolean;
  readonly user: string | null;
  readonly reason: string;
}

/**
 * The native plugin forwards every request header; with authentication on,
 * Orthanc has already refused a request whose Basic credentials do not match
 * RegisteredUsers, so the user name in the header is the authenticated user.
 */
export function phiAccess(headers: Readonly<Record<string, string>>, policy: PhiAccessPolicy): PhiAccess {
  const user = basicUser(headers['authorization']);
  if (policy.viewers.length === 0) return { allowed: false, user, reason: 'AiBridge.PhiViewers is empty: identifiers are masked for everyone' };
  if (!policy.orthancAuthenticates) return { allowed: false, user, reason: 'Orthanc authentication is off, so no user is proven: identifiers are masked' };
  if (user === null) return { allowed: false, user, reason: 'the request carries no HTTP Basic user' };
  if (!policy.viewers.includes(user)) return { allowed: false, user, reason: `user ${user} is not in AiBridge.PhiViewers` };
  return { allowed: true, user, reason: `user ${user} is in AiBridge.PhiViewers` };
}

/** The user name of an HTTP Basic Authorization header (RFC 7617), or null. */
export function basicUser(header: string | undefined): string | null {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (match === null) return null;
  const decoded = Buffer.from(match[1] ?? '', 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon <= 0 ? null : decoded.slice(0, colon);
}

/** Orthanc's own rule: authentication is on when asked for, or by default when remote access is allowed. */
export function orthancAuthenticates(orthancConfiguration: unknown): boolean {
  const config = typeof orthancConfiguration === 'object' && orthancConfiguration !== null ? orthancConfiguration as Record<string, unknown> : {};
  return config['AuthenticationEnabled'] === true || (config['AuthenticationEnabled'] === undefined && config['RemoteAccessAllowed'] === true);
}
