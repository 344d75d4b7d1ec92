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

  const policy = program.command('policy').description('check, test, explain, format and compare Sentrail policies as code').exitOverride();
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
    .option('--remote', "also send every case to the gate's evaluate-action endpoint and report where it decides otherwise (writes an audit entry per case)")
    .option('--yes', '--remote: send to a gate that is not on this machine (a live workspace)')
    .option('--cloud-url <url>', '--remote: the base evaluate-action hangs off (default: the gate URL up to /mcp-gate)')
    .option('--api-key <key>', '--remote: an agk_ API key (prefer SENTRAIL_API_KEY)')
    .option('--allow-http', '--remote: allow plain http:// to a non-loopback gate')
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

  policy
    .command('fmt')
    .description('rewrite policy files in canonical form (key order, priority order, quoting), keeping comments')
    .argument('[paths...]', 'policy files or folders (a folder: its *.yaml, *.yml, *.json files, test files excepted)')
    .option('--check', 'write nothing; list the files that would change and exit 1 if any')
    .option('--json', 'print a report as JSON')
    .exitOverride()
    .action((paths: string[], o: { check?: boolean; json?: boolean }) =>
      run(async () => (await import('./policy/fmt.ts')).runPolicyFmt({ paths, ...o })),
    );

  policy
    .command('diff')
    .description('what changes between two policies: policies added, removed, changed; and every decision that changes')
    .argument('<a>', 'the policy before: a file, a folder, gate: (the live org policy) or cache: (the cached copy)')
    .argument('<b>', 'the policy after, as for <a>')
    .option('--requests <file>', 'more requests to decide: a test file, or a YAML/JSON list of requests')
    .option('--gate <url>', 'the gate for gate: and cache: (default: the default gate)')
    .option('--cloud-url <url>', 'gate: the base the policy endpoint hangs off (default: the gate URL up to /mcp-gate)')
    .option('--api-key <key>', 'gate: an agk_ API key (prefer SENTRAIL_API_KEY)')
    .option('--allow-http', 'gate: allow plain http:// to a non-loopback gate')
    .option('--json', 'print the result as JSON')
    .exitOverride()
    .action((a: string, b: string, o: Record<string, string | boolean | undefined>) =>
      run(async () => (await import('./policy/diff.ts')).runPolicyDiff({ ...(o as object), a, b } as never)),
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
    .command('init')
    .description("add the bridge to Claude Code: .mcp.json at the repository root (project scope), or the claude mcp add line to run (user, local)")
    .option('--gate <url>', 'the gate URL (default: the default gate of sentrail login)')
    .option('--scope <scope>', 'project (.mcp.json, shared with the team), user or local', 'project')
    .option('--agent <id>', 'the agent id the bridge sends (X-Agent-Id)')
    .option('--print', 'print the entry instead of writing it')
    .option('--force', 'replace a different sentrail entry (every other server is kept)')
    .option('--json', 'print one JSON object')
    .exitOverride()
    .action((o: Record<string, string | boolean | undefined>) => run(async () => (await import('./init.ts')).runInit(o as never)));

  program
    .command('doctor')
    .description('check everything between installed and working: Node, npx, keychain, credential, gate, clock, org policy, .mcp.json, a launched bridge; each problem with its fix')
    .option('--gate <url>', 'the gate URL (default: the default gate of sentrail login)')
    .option('--api-key <key>', 'check with this agk_ API key (prefer SENTRAIL_API_KEY)')
    .option('--json', 'print one JSON object')
    .exitOverride()
    .action((o: Record<string, string | boolean | undefined>) => run(async () => (await import('./doctor.ts')).runDoctor(o as never)));

  program
    .command('audit')
    .description("the bridge's local audit: every decision it made or relayed (never argument values); `audit verify` checks its hash chain")
    .argument('[verify]', 'verify: check that no line was edited or removed')
    .option('--since <when>', 'only lines since then: 30s, 15m, 1h, 2d, or a date')
    .option('--decision <decision>', 'only this decision: allow, block, require_approval, fail_closed, error')
    .option('--tool <glob>', 'only tools matching this pattern (delete_*, *_issue)')
    .option('--json', 'JSON lines (verify: one JSON object)')
    .option('--follow', 'keep printing new lines as they are written, like tail -f')
    .exitOverride()
    .action((what: string | undefined, o: Record<string, string | boolean | undefined>) => run(async () => (await import('./audit.ts')).runAudit({ ...o, ...(what ? { what } : {}) } as never)));

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
    .option('--no-audit', 'write no local audit lines (also SENTRAIL_AUDIT=off)')
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
    .option('--out <file|folder>', 'also write the org policy into the repository: FILE.yaml for one file, else a folder with one file per policy')
    .option('--check', 'with --out: write nothing; exit 1 when the copy there differs from the gate (for CI)')
    .option('--force', 'with --out: replace files that policy pull did not write')
    .option('--json', 'print the result as JSON')
    .exitOverride()
    .action((o: Record<string, string | boolean | undefined>) => run(async () => (await import('./policy/pull.ts')).runPolicyPull(o as never)));

  return program;
}

