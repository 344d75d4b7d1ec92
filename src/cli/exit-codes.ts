// Every exit code sentrail uses, in one place (documented in docs/exit-codes.md).
export const ExitCode = {
  /** Success; `policy test`: every case passed. */
  OK: 0,
  /** A failure: a test case failed or erred, a command could not do its job. */
  FAILURE: 1,
  /** Bad input: an invalid policy or test file, a bad flag or argument (the message names it). */
  INVALID_INPUT: 2,
  /** `policy test --coverage-threshold`: coverage is under the threshold. */
  COVERAGE_BELOW_THRESHOLD: 3,
  /** Not logged in: no usable credential for the gate. */
  NOT_LOGGED_IN: 4,
  /** `approvals approve|deny`: the request is not pending any more (decided, executed, failed, expired). */
  APPROVAL_NOT_PENDING: 5,
  /** `approvals wait`: the request ended without running (denied, expired, failed). */
  APPROVAL_NOT_EXECUTED: 6,
  /** `approvals wait --timeout`: still pending (or replaying) when the time ran out. */
  WAIT_TIMED_OUT: 7,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
