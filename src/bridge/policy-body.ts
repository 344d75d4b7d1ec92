// Is what the gate served at `C/mcp-gate/policy` a policy document at all? A login page, a proxy's
// error page or some other endpoint's JSON is not a policy "in a newer format", and saying so
// would send the user the wrong way: this names what came instead. Only a document that is one
// (a JSON object with `policies` or `version`) goes on to the policy loader, whose failures may
// well mean a newer format. The endpoint serves JSON (gate-protocol.md; the cache keeps it as
// `<gate>.json`), so YAML is not taken here.
import { mediaType } from './gate-answers.ts';

/** What the gate sent instead of a JSON policy document, as a phrase; null when it is one. */
export function notAPolicyDocument(contentType: string | null, text: string): string | null {
  const type = mediaType(contentType);
  const jsonType = type === 'application/json' || type.endsWith('+json');
  // An absent or text/plain type is tolerated when the body is JSON; anything else is not a policy.
  if (!jsonType && type !== 'no content type' && type !== 'text/plain') return `the gate answered ${type}, not a policy document`;
  const body = text.trim();
  if (body === '') return `the gate answered ${type} with an empty body, not a policy document`;
  if (body.startsWith('<')) return `the gate answered ${type} that looks like HTML or XML, not a policy document`;
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    // (The parser's message would quote the body, which a careless gate may fill with our headers.)
    return `the gate answered ${type} that is not JSON, not a policy document`;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return `the gate answered ${type} holding ${describe(value)}, not a policy document`;
  if (!('policies' in value) && !('version' in value)) return `the gate answered ${type} holding an object without "policies" or "version", not a policy document`;
  return null;
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  return typeof value === 'string' ? 'a string' : `a ${typeof value}`;
}
