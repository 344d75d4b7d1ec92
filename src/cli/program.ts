// The `sentrail` program (commander): parses flags into an options object and calls one function
// per command. Commands are imported lazily so each invocation loads only what it runs.
import { Command, InvalidArgumentError, Option } from 'commander';
import { parseSeconds } from './bridge-args.ts';
import { VERSION } from './version.ts';

type Action = () => Promise<number>;

function secondsOption(value: string): number {
  const seconds = parseSeconds(value);
  if (seconds === null) throw new InvalidArgumentError('a number of seconds, 0 or more');
  return seconds;
}

export function buildProgram(run: (action: Action) => void): Command {
  const program = new Command('sentrail')
    .description('Sentrail from the command line: the MCP bridge to your Sentrail gate, login, and policy-as-code checks.')
    .version(VERSION, '-v, --version')
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({ sortSubcommands: false })
    .exitOverride();

  const policy = program.command('policy').description('check, test and explain Sentrail policies as code').exitOverride();
  const gateOption = () => new Option('--gate <url>', 'use the cached org policy of this gate when no --policy is given');

  policy
    .command('check')
    .description('validate a policy file or folder: schema errors and warnings, as file:line: code: message')
    .argument('[policy]', 'a policy file or folder (default: the cached org policy)')
    .addOption(gateOption())
    .option('--json', 'print the result as JSON')
    .exitOverride()
    .action((target: string | undefined, o: { gate?: string; json?: boolean }) =>
      run(async () => (await import('./policy/check.ts')).runPolicyCheck({ ...o, ...(target ? { policy: target } : {}) })),
    );

  policy
    .command('test')
    .description('run policy test files (*.test.yaml, *.test.yml, *.test.json)')
    .argument('[paths...]', 'test files or folders to search (default: .)')
    .option('--policy <path>', 'run every test file against this policy file or folder')
    .addOption(gateOption())
    .option('--coverage', 'report policies that no case was decided by')
    .option('--coverage-threshold <pct>', 'exit 3 when coverage is under this percentage (implies --coverage)')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json', 'junit']).default('text'))
    .exitOverride()
    .action((paths: string[], o: Record<string, string | boolean | undefined>) =>
      run(async () => (await import('./policy/test.ts')).runPolicyTest({ paths, ...o })),
    );

  policy
    .command('explain')
    .description('decide one request and show why: the decision and the trace of policies before it')
    .requiredOption('--action <action>', 'the action; for MCP, the tool name')
    .option('--tool <tool>', 'github, linear, slack, notion, internal_api or mcp', 'mcp')
    .option('--agent <id>', 'the agent id (default: unknown)')
    .option('--risk <level>', 'low, medium, high or critical (MCP: inferred from the name when absent)')
    .option('--resource-type <type>', 'the resource type')
    .option('--args <json|@file>', "the tool call's arguments, as JSON or @file")
    .option('--policy <path>', 'a policy file or folder (default: the cached org policy)')
    .addOption(gateOption())
    .option('--json', 'print the explanation as JSON')
    .exitOverride()
    .action((o: Record<string, string | boolean | undefined>) =>
      run(async () => (await import('./policy/explain.ts')).runPolicyExplain(o as never)),
    );

  program
    .command('login')
    .description("log in to a gate as yourself (OAuth 2.1 in the browser, or --device), or with --with-api-key; keeps the credential in the OS keychain and makes the gate the default")
    .option('--gate <url>', 'the gate URL (default: the default gate, once there is one)')
    .option('--device', 'use the device flow: open a URL on any device and type the code shown (chosen by itself when no browser can be opened)')
    .option('--no-browser', 'do not open a browser: print the authorization URL to open anywhere (the login waits for it)')
    .option('--callback-port <n>', 'the loopback port the browser returns to (default: any free port)')
    .option('--client-id <id>', 'a client id your organisation registered for sentrail (default: sentrail registers itself)')
    .option('--client-metadata-url <url>', 'a Client ID Metadata Document URL to use as client id, where the server supports them')
    .option('--with-api-key', 'read an agk_ API key from standard input (never pass it as an argument)')
    .option('--insecure-storage', 'keep the credential in a 0600 file instead of the OS keychain (machines without a keychain)')
    .option('--json', 'print progress and the outcome as JSON lines on stdout')
    .option('--allow-http', 'allow plain http:// to a non-loopback gate')
    .exitOverride()
    .action((o: Record<string, string | boolean | undefined>) => run(async () => (await import('./login.ts')).runLogin(o as never)));

  program
    .command('logout')
    .description("delete the gate's stored credential (default: the default gate)")
    .option('--gate <url>', 'the gate URL (default: the default gate)')
    .exitOverride()
    .action((o: Record<string, string | boolean | undefined>) => run(async () => (await import('./logout.ts')).runLogout(o as never)));

  program
    .command('status')
    .description('who you are at the gate, where the credential comes from, its expiry, and the cached org policy; exit 4 when not logged in')
    .option('--gate <url>', 'the gate URL (default: the default gate)')
    .option('--api-key <key>', 'check this agk_ API key instead (prefer SENTRAIL_API_KEY)')
    .option('--allow-http', 'allow plain http:// to a non-loopback gate')
    .option('--json', 'print one JSON object')
    .exitOverride()
    .action((o: Record<string, string | boolean | undefined>) => run(async () => (await import('./status.ts')).runStatus(o as never)));

  program
    .command('bridge')
    .description('the stdio MCP server Claude Code launches: relays to your Sentrail gate, with the org policy as a local first check')
    .option('--gate <url>', 'the gate URL (e.g. https://<ref>.supabase.co/functions/v1/mcp-gate/sse), or any MCP HTTP endpoint (default: the default gate of sentrail login)')
    .option('--cloud-url <url>', 'the base the other gate endpoints hang off (default: the gate URL up to /mcp-gate)')
    .option('--agent <id>', 'the X-Agent-Id to send (default: SENTRAIL_AGENT_ID, else the client name from initialize)')
    .option('--policy <file>', 'use this policy file as the first check instead of pulling the org policy')
    .addOption(new Option('--transport <kind>', 'how to reach the gate').choices(['auto', 'http', 'sse']).default('auto'))
    .option('--allow-http', 'allow plain http:// to a non-loopback gate')
    .option('--log-file <path>', 'where to write the log (default: in the OS state folder)')
    .addOption(new Option('--log-level <level>', 'log detail').choices(['error', 'warn', 'info', 'debug']).default('info'))
    .option('--api-key <key>', 'an agk_ API key (visible to other processes: prefer SENTRAIL_API_KEY)')
    .option('--request-timeout <seconds>', 'answer a request the gate has said nothing about for this long, and cancel it there (0: no bound)', secondsOption, 300)
    .option('--approval-wait <seconds>', 'how long a call held for approval waits for a reviewer before the bridge answers with the approval id (0: answer at once)', secondsOption, 600)
    .exitOverride()
    .action((o: Record<string, string | boolean | undefined>) => run(async () => (await import('./bridge.ts')).runBridge(o as never)));

  program
    .command('gate')
    .description('a local Sentrail gate with the same contract as the hosted one, for development, demos and tests')
    .requiredOption('--policy <path>', 'the org policy (file or folder) the gate decides with')
    .option('--upstream <command>', 'the upstream MCP server to start per session, as a command line')
    .option('--upstream-url <url>', 'the upstream MCP server, as a Streamable HTTP URL')
    .option('--port <port>', 'the port to listen on', '7391')
    .option('--host <host>', 'the address to listen on', '127.0.0.1')
    .option('--api-key <key>', 'the agk_ API key clients must present (default: a new one, printed once on stderr)')
    .option('--admin-key <key>', 'the sak_ admin key reviewers decide approvals with (else SENTRAIL_ADMIN_KEY; default: a new one, printed once on stderr and left 0600 in the state folder for sentrail approvals)')
    .option('--approval-ttl <duration>', 'how long an approval request stays pending: seconds, or 90s, 10m, 24h, 7d', '24h')
    .option('--state-dir <dir>', "the gate's state folder: its approvals and generated admin key (default: SENTRAIL_GATE_STATE_DIR, else <OS state folder>/gate)")
    .option('--hosted', "behave exactly as Sentrail's hosted gate: tools only, protocol 2024-11-05")
    .option('--issuer <url>', 'also accept OAuth access tokens (JWTs for C/mcp-gate) from this authorization server, and serve RFC 9728 metadata naming it (else SENTRAIL_GATE_ISSUER)')
    .exitOverride()
    .action((o: Record<string, string | boolean | undefined>) => run(async () => (await import('./gate.ts')).runGate(o as never)));

  const approvals = program.command('approvals').description("review and decide the gate's approval requests (require_approval calls waiting for a human)").exitOverride();
  /** The options every approvals command takes; `agent`: the status read also takes the agent's key. */
  const approvalsCommand = (name: string, description: string, agent = false) => {
    const c = approvals
      .command(name)
      .description(description)
      .option('--gate <url>', 'the gate URL (default: the default gate, else the local gate at http://127.0.0.1:7391/mcp-gate/sse)')
      .option('--admin-key <key>', "the gate's sak_ admin key (prefer SENTRAIL_ADMIN_KEY; default: the key a local gate left in its state folder)")
      .option('--state-dir <dir>', "the local gate's state folder, where it left its admin key (default: as sentrail gate's)");
    if (agent) c.option('--api-key <key>', "or the agent's agk_ API key (prefer SENTRAIL_API_KEY; default: your sentrail login)");
    return c.option('--allow-http', 'allow plain http:// to a non-loopback gate').option('--json', 'print the JSON the gate answered').exitOverride();
  };
  type ApprovalsFlags = Record<string, string | boolean | undefined>;

  approvalsCommand('list', 'the approval requests, newest first')
    .option('--status <status>', 'only these: pending, approved, denied, expired, executed or failed')
    .action((o: ApprovalsFlags) => run(async () => (await import('./approvals/list.ts')).runApprovalsList(o as never)));
  approvalsCommand('show', 'one approval request: the stored call, its decision and outcome')
    .argument('<id>', 'the approval request id')
    .action((id: string, o: ApprovalsFlags) => run(async () => (await import('./approvals/show.ts')).runApprovalsShow(id, o as never)));
  approvalsCommand('approve', 'approve a pending request: the gate then runs the call once; exit 5 when it is not pending')
    .argument('<id>', 'the approval request id')
    .option('--reason <text>', 'why (shown to the agent)')
    .action((id: string, o: ApprovalsFlags) => run(async () => (await import('./approvals/decide.ts')).runApprovalsDecide('approved', id, o as never)));
  approvalsCommand('deny', 'deny a pending request: the call never runs; exit 5 when it is not pending')
    .argument('<id>', 'the approval request id')
    .option('--reason <text>', 'why (shown to the agent, which is told not to retry)')
    .action((id: string, o: ApprovalsFlags) => run(async () => (await import('./approvals/decide.ts')).runApprovalsDecide('denied', id, o as never)));
  approvalsCommand('status', "a request's status, as the agent reads it (the admin key or the agent's credential)", true)
    .argument('<id>', 'the approval request id')
    .action((id: string, o: ApprovalsFlags) => run(async () => (await import('./approvals/status.ts')).runApprovalsStatus(id, o as never)));
  approvalsCommand('wait', 'wait until a request is executed, denied, expired or failed; exit 0 when executed, 6 otherwise, 7 on --timeout', true)
    .argument('<id>', 'the approval request id')
    .option('--timeout <seconds>', 'give up after this long (0: no bound)', secondsOption, 0)
    .action((id: string, o: ApprovalsFlags) => run(async () => (await import('./approvals/wait.ts')).runApprovalsWait(id, o as never)));

  policy
    .command('pull')
    .description("fetch the gate's org policy into the local cache (the bridge does this by itself)")
    .option('--gate <url>', 'the gate URL')
    .option('--cloud-url <url>', 'the base the policy endpoint hangs off (default: the gate URL up to /mcp-gate)')
    .option('--api-key <key>', 'an agk_ API key (prefer SENTRAIL_API_KEY)')
    .option('--allow-http', 'allow plain http:// to a non-loopback gate')
    .option('--json', 'print the result as JSON')
    .exitOverride()
    .action((o: Record<string, string | boolean | undefined>) => run(async () => (await import('./policy/pull.ts')).runPolicyPull(o as never)));

  return program;
}

