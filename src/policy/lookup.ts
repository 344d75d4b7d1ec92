// Finding a compiled index's candidate lists at decision time. Apart from compile.ts, which builds
// the indexes, because decide.ts (on the bridge's start-up path) needs only this: importing
// compile.ts would load the regex engine (re2js, regexpp) with it.
import type { CompiledPolicy, ToolIndex, TrieNode } from './compile.ts';

/** Request risk as a list index: 0..3 for low..critical, 4 for "no risk level". */
export const NO_RISK = 4;

/** Walks a prefix trie along `value`, adding every list on the way. */
function collectPrefixLists(root: TrieNode, value: string, out: CompiledPolicy[][]): void {
  let node: TrieNode | undefined = root;
  if (node.policies) out.push(node.policies);
  for (let i = 0; i < value.length && node.children; i++) {
    node = node.children.get(value.charCodeAt(i));
    if (!node) return;
    if (node.policies) out.push(node.policies);
  }
}

const PATTERN_MEMO_LIMIT = 4096;

/** The exact and prefix lists that can hold a match for `action`, each in evaluation order. */
export function patternListsFor(index: ToolIndex, action: string): CompiledPolicy[][] {
  let lists = index.patternLists.get(action);
  if (lists === undefined) {
    lists = [];
    const exact = index.exact.get(action);
    if (exact) lists.push(exact);
    collectPrefixLists(index.prefixes, action, lists);
    // Bounded: tool names repeat, but a hostile caller must not grow it without end.
    if (index.patternLists.size >= PATTERN_MEMO_LIMIT) index.patternLists.clear();
    index.patternLists.set(action, lists);
  }
  return lists;
}
