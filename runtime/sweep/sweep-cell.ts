/**
 * The sweep cell of an experiment's text: found, parsed and expanded, with anything wrong in it
 * located at the line and column of the key that is wrong (SweepError.field names the key).
 *
 * The fence is found here rather than through the document parser's cell list, so a sweep cell is
 * read the same way whether or not the parser counts `sweep` among its cell kinds.
 */
import { isMap, isScalar, isSeq, parseDocument } from 'yaml';
import type { Node, Pair } from 'yaml';
import { CELL_KINDS, computeLineStarts, positionAt } from '../format/document';
import type { Diagnostic } from '../format/document';
import type { SweepConfig, SweepRun } from './expand';
import { SweepError, expandSweep } from './expand';

export interface SweepCell {
  /** The YAML between the fences, and where it starts in the text. */
  body: string;
  bodyOffset: number;
  /** The opening fence line: where an error without a key of its own points. */
  fenceOffset: number;
  fenceLength: number;
}

export interface Sweep {
  config: SweepConfig;
  runs: SweepRun[];
}

/** A sweep cell that cannot be expanded: every diagnostic located in the file. */
export class SweepCellError extends Error {
  override name = 'SweepCellError';
  constructor(readonly diagnostics: Diagnostic[]) {
    super(diagnostics.map((diagnostic) => `${diagnostic.file}:${diagnostic.start.line}:${diagnostic.start.column}: ${diagnostic.severity}: ${diagnostic.message}`).join('\n'));
  }
}

const FENCE = /^( {0,3})(`{3,}|~{3,})\s*([^\s`]*)\s*$/;

/** The first ```sweep cell of the text, if it has one (a fence left open runs to the end). */
export function findSweepCell(text: string): SweepCell | undefined {
  const lines = text.split(/(?<=\n)/);
  let offset = 0;
  for (let index = 0; index < lines.length; index++) {
    const match = FENCE.exec(lines[index].replace(/\r?\n$/, ''));
    if (!match) {
      offset += lines[index].length;
      continue;
    }
    const fence = match[2];
    const fenceOffset = offset;
    const bodyOffset = offset + lines[index].length;
    let end = index + 1;
    let position = bodyOffset;
    while (end < lines.length && !new RegExp(`^ {0,3}${fence[0]}{${fence.length},}\\s*$`).test(lines[end].replace(/\r?\n$/, ''))) position += lines[end++].length;
    if (match[3] === 'sweep') return { body: text.slice(bodyOffset, position), bodyOffset, fenceOffset, fenceLength: lines[index].replace(/\r?\n$/, '').length };
    offset = position + (end < lines.length ? lines[end].length : 0);
    index = end;
  }
  return undefined;
}

/** The YAML node a field path points at: the key of a mapping entry, the item of a list. */
function locate(root: unknown, field: (string | number)[]): Node | undefined {
  let node = root as Node | undefined;
  let found: Node | undefined;
  for (const part of field) {
    if (isMap(node)) {
      const pair = (node.items as Pair<unknown, unknown>[]).find((item) => isScalar(item.key) && String(item.key.value) === String(part));
      if (!pair) break;
      found = pair.key as Node;
      node = pair.value as Node;
    } else if (isSeq(node) && typeof part === 'number' && node.items[part]) {
      node = node.items[part] as Node;
      found = node;
    } else break;
  }
  return found;
}

function diagnostic(text: string, file: string, start: number, end: number, message: string): Diagnostic {
  const lineStarts = computeLineStarts(text);
  return { severity: 'error', message, file, start: positionAt(lineStarts, start), end: positionAt(lineStarts, end) };
}

/**
 * The sweep of the text, or undefined when it has no sweep cell. Throws SweepCellError with the
 * located problem for YAML that does not parse, a cell that is not a mapping, or a sweep that cannot expand.
 */
export function readSweep(text: string, file: string, cellKinds: readonly string[] = CELL_KINDS): Sweep | undefined {
  const cell = findSweepCell(text);
  if (!cell) return undefined;
  const atFence = (message: string) => new SweepCellError([diagnostic(text, file, cell.fenceOffset, cell.fenceOffset + cell.fenceLength, message)]);
  const document = parseDocument(cell.body);
  if (document.errors.length > 0) {
    const error = document.errors[0];
    throw new SweepCellError([diagnostic(text, file, cell.bodyOffset + error.pos[0], cell.bodyOffset + error.pos[1], `the sweep cell is not valid YAML: ${error.message.split('\n')[0]}`)]);
  }
  const config = document.toJS() as unknown;
  if (config === null || typeof config !== 'object' || Array.isArray(config)) throw atFence('a sweep cell is a mapping: grid, random, seeds, metric');
  const known = ['grid', 'random', 'seeds', 'metric'];
  for (const key of Object.keys(config)) {
    if (known.includes(key)) continue;
    const node = locate(document.contents, [key]);
    const range = node?.range ?? [0, 0];
    throw new SweepCellError([diagnostic(text, file, cell.bodyOffset + range[0], cell.bodyOffset + range[1], `\`${key}\` is not a sweep key; expected one of ${known.join(', ')}`)]);
  }
  const sweep = config as SweepConfig;
  if (sweep.metric !== undefined && !(typeof sweep.metric === 'string' && /^-?[a-z]+\.[A-Za-z_]\w*$/.test(sweep.metric))) {
    const range = locate(document.contents, ['metric'])!.range!;
    throw new SweepCellError([diagnostic(text, file, cell.bodyOffset + range[0], cell.bodyOffset + range[1], `metric ${JSON.stringify(sweep.metric)}: write split.metric, e.g. test.loss (lower first) or -test.psnr (higher first)`)]);
  }
  try {
    return { config: sweep, runs: expandSweep(sweep, cellKinds) };
  } catch (error) {
    if (!(error instanceof SweepError)) throw error;
    const node = locate(document.contents, error.field);
    if (!node?.range) throw atFence(error.message);
    throw new SweepCellError([diagnostic(text, file, cell.bodyOffset + node.range[0], cell.bodyOffset + node.range[1], error.message)]);
  }
}

/** The located problems of the text's sweep cell (none when it has none or it expands). */
export function sweepDiagnostics(text: string, file: string, cellKinds: readonly string[] = CELL_KINDS): Diagnostic[] {
  try {
    readSweep(text, file, cellKinds);
    return [];
  } catch (error) {
    if (error instanceof SweepCellError) return error.diagnostics;
    throw error;
  }
}
