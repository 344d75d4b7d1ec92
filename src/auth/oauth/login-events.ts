// What `sentrail login` tells its user while it works, as events: the flow (login-flow.ts) emits
// them, a view renders them (ink in a terminal, plain lines otherwise, JSON lines with --json).
// The flow never writes to the terminal itself. No event carries a secret: the device flow's
// user code is not one (it is shown as issued, RFC 8628 §3.3), and authorization URLs carry only
// public values (client id, PKCE challenge, state).

export type LoginStep =
  | 'discovering' // asking the gate who its authorization server is
  | 'registering' // registering this client with the authorization server
  | 'waiting-for-browser' // the authorization URL is open (or printed); the loopback listener waits
  | 'waiting-for-device' // the user code is shown; polling the token endpoint
  | 'exchanging' // trading the code for tokens
  | 'checking' // checking the new token against the gate
  | 'storing'; // writing it to the keychain / file

export type LoginEvent =
  | { type: 'step'; step: LoginStep; detail?: string }
  /** The authorization server the gate named, once its metadata is checked. */
  | { type: 'discovered'; issuer: string; resource: string; scopes: string[]; deviceFlow: boolean }
  | { type: 'registered'; clientId: string; method: 'pre-registered' | 'metadata-document' | 'dynamic'; reused: boolean }
  /**
   * Browser flow: the URL to open. `opened` is false with --no-browser (or when opening failed):
   * the user opens it anywhere, and the loopback listener on `callback` keeps waiting.
   */
  | { type: 'authorize-url'; url: string; opened: boolean; callback: string }
  /** Device flow (RFC 8628): where to go and the code to type, exactly as issued. */
  | { type: 'device-code'; verificationUri: string; verificationUriComplete: string | null; userCode: string; expiresAt: string }
  /** Something the user should know that does not stop the flow. */
  | { type: 'warning'; message: string }
  | {
      type: 'done';
      gate: string;
      issuer: string;
      subject: string | null;
      scopes: string[];
      expiresAt: string | null;
      refreshable: boolean;
      storage: 'keychain' | 'file';
      location: string;
    };

export type LoginListener = (event: LoginEvent) => void;
