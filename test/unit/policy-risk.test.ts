// policy.md: MCP risk inference, exactly these regexes in this order on the lower-cased name.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inferMcpRisk } from '../../src/policy/risk.ts';

describe('MCP risk inference', () => {
  const table: [string, string][] = [
    // row 1: high
    ['delete_repo', 'high'], ['destroy_env', 'high'], ['drop_table', 'high'], ['remove_member', 'high'],
    ['rm', 'high'], ['fs.rm', 'high'], ['truncate_log', 'high'], ['purge_cache', 'high'],
    // row 2: medium
    ['create_issue', 'medium'], ['update_issue', 'medium'], ['write_file', 'medium'], ['post_message', 'medium'],
    ['send_email', 'medium'], ['merge_pr', 'medium'], ['deploy', 'medium'], ['push_files', 'medium'],
    ['exec', 'medium'], ['run_tests', 'medium'],
    // row 3: low, anchored at the start
    ['get_file', 'low'], ['list_issues', 'low'], ['read_file', 'low'], ['search_code', 'low'],
    ['fetch_url', 'low'], ['describe_table', 'low'], ['show_status', 'low'],
    // row 4: everything else
    ['echo', 'medium'], ['add', 'medium'], ['printEnv', 'medium'], ['file_get', 'medium'],
  ];
  for (const [name, risk] of table) it(`${name} → ${risk}`, () => assert.equal(inferMcpRisk(name), risk));

  it('names that hit two rows take the first row in order', () => {
    assert.equal(inferMcpRisk('create_and_delete'), 'high'); // high before medium
    assert.equal(inferMcpRisk('list_deleted_items'), 'high'); // high before low
    assert.equal(inferMcpRisk('get_run_status'), 'medium'); // "run" (medium) before the low prefix
    assert.equal(inferMcpRisk('fetch_and_push'), 'medium');
    assert.equal(inferMcpRisk('read_truncated'), 'high');
  });
  it('lower-cases first', () => {
    assert.equal(inferMcpRisk('DELETE_REPO'), 'high');
    assert.equal(inferMcpRisk('GetFile'), 'low');
    assert.equal(inferMcpRisk('CreateIssue'), 'medium');
  });
  it('\\brm\\b needs word boundaries: underscore is a word character', () => {
    assert.equal(inferMcpRisk('rm_file'), 'medium');
    assert.equal(inferMcpRisk('file-rm'), 'high');
    assert.equal(inferMcpRisk('form'), 'medium');
  });
  it('substrings count for rows 1 and 2; row 3 only at the start', () => {
    assert.equal(inferMcpRisk('undeleted'), 'high');
    assert.equal(inferMcpRisk('undeletable'), 'medium'); // "delet-able": no "delete" in it
    assert.equal(inferMcpRisk('prerun'), 'medium');
    assert.equal(inferMcpRisk('my_get_file'), 'medium');
    assert.equal(inferMcpRisk('showcase'), 'low');
  });
  it('never infers critical', () => {
    assert.equal(['delete', 'drop_database', 'purge_all'].some((n) => inferMcpRisk(n) === 'critical'), false);
  });
});
