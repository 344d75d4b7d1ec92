// The gate as an OAuth protected resource (RFC 9728), when it trusts an issuer (`--issuer`): its
// metadata, served without auth at the well-known URL for the resource `C/mcp-gate`, and the
// `WWW-Authenticate` challenges that point clients there (RFC 9728 §5.1, RFC 6750 §3). Without an
// issuer the gate takes API keys only, and its 401s stay bare, as the hosted gate's do.

/** RFC 9728 §3.1: the well-known path inserted before the resource's path. */
export const PROTECTED_RESOURCE_PATH = '/.well-known/oauth-protected-resource/mcp-gate';
/** The root form, for clients that look there first. */
export const PROTECTED_RESOURCE_ROOT_PATH = '/.well-known/oauth-protected-resource';
export const REQUIRED_SCOPE = 'mcp';

export interface ProtectedResource {
  metadata(): Record<string, unknown>;
  /** The 401 challenge; `error` when a token was presented and refused. */
  challenge(refusal?: { error: 'invalid_token' | 'insufficient_scope'; description: string }): string;
}

const quoted = (s: string) => `"${s.replace(/["\\]/g, '\\$&')}"`;

export function createProtectedResource(opts: { issuer: string; base: () => string }): ProtectedResource {
  const resource = () => `${opts.base()}/mcp-gate`;
  return {
    metadata: () => ({
      resource: resource(),
      authorization_servers: [opts.issuer],
      scopes_supported: [REQUIRED_SCOPE],
      bearer_methods_supported: ['header'],
      resource_name: 'Sentrail gate (local)',
    }),
    challenge(refusal) {
      const params = [`resource_metadata=${quoted(`${opts.base()}${PROTECTED_RESOURCE_PATH}`)}`];
      if (refusal) {
        params.unshift(`error=${quoted(refusal.error)}`, `error_description=${quoted(refusal.description)}`);
        if (refusal.error === 'insufficient_scope') params.push(`scope=${quoted(REQUIRED_SCOPE)}`);
      }
      return `Bearer ${params.join(', ')}`;
    },
  };
}
