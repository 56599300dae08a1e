/**
 * What a "did you mean" quick fix may do to a cell's YAML. Renaming a misspelt key to a key its
 * mapping already has would write a duplicate key (a new error, and one of the two values lost), so
 * that fix becomes "remove this entry" instead. Pure: the code action provider applies the result.
 */
import { isNode, isScalar, parseDocument, visit } from 'yaml';
import type { Pair } from 'yaml';

export type KeyFix =
  | { kind: 'replace'; text: string }
  /** Remove text[start, end): the whole entry, its lines included. */
  | { kind: 'remove'; start: number; end: number; key: string; existing: string };

/**
 * The fix for a diagnostic covering text[start, end) whose suggestion is `suggestion`: a
 * replacement, unless the range is a mapping's key and that mapping already has `suggestion`.
 */
export function keyFix(text: string, start: number, end: number, suggestion: string): KeyFix | undefined {
  const document = parseDocument(text, { uniqueKeys: false });
  let found: { pair: Pair; duplicate: boolean; flow: boolean } | undefined;
  visit(document, {
    Map(_key, map) {
      for (const pair of map.items) {
        if (!isScalar(pair.key) || pair.key.range?.[0] !== start || pair.key.range[1] !== end) continue;
        const duplicate = map.items.some((other) => other !== pair && isScalar(other.key) && String(other.key.value) === suggestion);
        found = { pair, duplicate, flow: Boolean(map.flow) };
        return visit.BREAK;
      }
      return undefined;
    },
  });
  if (!found?.duplicate) return { kind: 'replace', text: suggestion };
  // An entry of a one-line {…} mapping cannot be removed line by line; no fix beats a wrong one.
  if (found.flow) return undefined;
  const value = found.pair.value;
  let entryEnd = (isNode(value) ? value.range?.[1] : undefined) ?? end;
  while (entryEnd > start && /\s/.test(text[entryEnd - 1])) entryEnd--;
  const lineStart = text.lastIndexOf('\n', start - 1) + 1;
  const newline = text.indexOf('\n', entryEnd);
  return { kind: 'remove', start: lineStart, end: newline < 0 ? text.length : newline + 1, key: text.slice(start, end), existing: suggestion };
}
