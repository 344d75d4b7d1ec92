// Secrets never reach any output: known values (the API key or token in use) are replaced
// wherever they appear, and anything shaped like a credential is masked even when unknown.

const PATTERNS: [RegExp, string][] = [
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, '$1 [redacted]'],
  [/\bagk_[A-Za-z0-9]{8,}/g, 'agk_[redacted]'],
  // the local gate's admin key (src/gate/admin-auth.ts)
  [/\bsak_[A-Za-z0-9]{8,}/g, 'sak_[redacted]'],
  // JSON members, and query or form parameters, that carry secrets (OAuth: RFC 6749 / 7636 / 8628
  // names). Only those shapes: a bare `code: …` in prose (`claude-code: allow`) is not a secret.
  [/("(?:access_token|refresh_token|id_token|client_secret|code_verifier|device_code|code|api_?key|apiKey|authorization|password|token)"\s*:\s*")([^"]*)"/gi, '$1[redacted]"'],
  [/((?:^|[?&\s])(?:access_token|refresh_token|id_token|client_secret|code_verifier|device_code|code|api_?key|token)=)([^&\s"]+)/gi, '$1[redacted]'],
];

export class Redactor {
  private readonly secrets = new Set<string>();

  /** Registers a value that must never be printed (ignored when too short to be a secret). */
  add(secret: string | undefined | null): void {
    if (secret && secret.length >= 8) this.secrets.add(secret);
  }

  redact(text: string): string {
    let out = text;
    for (const s of this.secrets) if (out.includes(s)) out = out.split(s).join('[redacted]');
    for (const [re, replacement] of PATTERNS) out = out.replace(re, replacement);
    return out;
  }
}

/** An API key as `status` shows it: `agk_xxxx…yyyy`. */
export function maskKey(key: string): string {
  if (key.length <= 12) return `${key.slice(0, 4)}…`;
  return `${key.slice(0, 8)}…${key.slice(-4)}`;
}
