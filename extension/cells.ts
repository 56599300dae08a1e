/**
 * `.aexp` text ↔ notebook cells, without `vscode` (unit-tested in plain Node).
 *
 * Every byte of the file lands in exactly one cell: its visible text plus what the cell's metadata
 * keeps (fences, surrounding blank lines, the body's final line ending). Serializing concatenates
 * them back, so a cell nobody edited is written exactly as it was read.
 */
import { parseAexp } from '../runtime/format/document';
import type { CellKind } from '../runtime/format/document';
import { CELL_KINDS } from '../runtime/format/document';
import { cellSchemas } from '../runtime/format/schema';

export const FRONT_MATTER = 'frontMatter';
export type CodeCellKind = CellKind | typeof FRONT_MATTER;

/** What a cell keeps beside its text, stored in the notebook cell's metadata under `aexp`. */
export interface CellLayout {
  /** For code cells: the block's kind; `frontMatter` for the YAML header. */
  kind?: CodeCellKind;
  /** Text before the visible text: the opening fence, or blank lines before a Markdown paragraph. */
  before: string;
  /** Text after the visible text: the body's last line ending, the closing fence, blank lines. */
  after: string;
}

export interface CellData {
  type: 'markdown' | 'code';
  text: string;
  layout: CellLayout;
}

function splitWhitespace(raw: string): { before: string; text: string; after: string } {
  const leading = /^(?:[ \t]*\r?\n)*/.exec(raw)![0];
  const rest = raw.slice(leading.length);
  const trailing = /\s*$/.exec(rest)![0];
  return { before: leading, text: rest.slice(0, rest.length - trailing.length), after: trailing };
}

function splitBodyEnd(body: string): { text: string; end: string } {
  const end = /\r?\n$/.exec(body)?.[0] ?? '';
  return { text: body.slice(0, body.length - end.length), end };
}

/** Reads a file into cells. Never fails: unparseable parts stay Markdown, as the parser keeps them. */
export function textToCells(text: string): CellData[] {
  const cells: CellData[] = [];
  let pendingBefore = '';
  for (const block of parseAexp(text).blocks) {
    if (block.type === 'markdown') {
      const { before, text: content, after } = splitWhitespace(block.raw);
      if (content === '') {
        // Blank lines between two cells belong to the cell above, or to the next one at the top.
        const previous = cells.at(-1);
        if (previous) previous.layout.after += block.raw;
        else pendingBefore += block.raw;
        continue;
      }
      cells.push({ type: 'markdown', text: content, layout: { before: pendingBefore + before, after } });
    } else if (block.type === 'frontMatter') {
      const head = block.raw.slice(0, block.bodyOffset - block.offset);
      const tail = block.raw.slice(block.bodyOffset - block.offset + block.body.length);
      const { text: content, end } = splitBodyEnd(block.body);
      cells.push({ type: 'code', text: content, layout: { kind: FRONT_MATTER, before: pendingBefore + head, after: end + tail } });
    } else {
      const { text: content, end } = splitBodyEnd(block.body);
      cells.push({ type: 'code', text: content, layout: { kind: block.kind, before: pendingBefore + block.open, after: end + block.close } });
    }
    pendingBefore = '';
  }
  if (pendingBefore) cells.push({ type: 'markdown', text: '', layout: { before: pendingBefore, after: '' } });
  return cells;
}

/**
 * The kind a new code cell most likely is: the cell kind whose schema knows the most of its
 * top-level keys (a person who types `epochs: 5` into a new cell means a train cell).
 */
export function guessCellKind(text: string): CellKind {
  const keys = [...text.matchAll(/^([A-Za-z_][\w-]*)\s*:/gm)].map((match) => match[1]);
  let best: CellKind = 'model';
  let bestScore = 0;
  for (const kind of CELL_KINDS) {
    const properties = Object.keys(cellSchemas[kind].properties ?? {});
    const score = keys.filter((key) => properties.includes(key)).length;
    if (score > bestScore) [best, bestScore] = [kind, score];
  }
  return best;
}

/** The opening fence of a code cell of this kind. */
export function fenceFor(kind: CodeCellKind): string {
  return kind === FRONT_MATTER ? '---\n' : `\`\`\`${kind}\n`;
}

/** A layout for a cell the person added: fences for code, a blank line after each cell. */
export function newLayout(type: CellData['type'], text: string, kind?: CodeCellKind): CellLayout {
  if (type === 'markdown') return { before: '', after: '\n\n' };
  const chosen = kind ?? guessCellKind(text);
  return { kind: chosen, before: fenceFor(chosen), after: chosen === FRONT_MATTER ? '\n---\n\n' : '\n```\n\n' };
}

/**
 * Where each cell's visible text starts in the text `cellsToText` writes (offsets in UTF-16 units),
 * so a diagnostic located in the file can be shown inside its cell.
 */
export function cellOffsets(cells: readonly { type: CellData['type']; text: string; layout?: CellLayout }[]): number[] {
  const offsets: number[] = [];
  let position = 0;
  for (const cell of cells) {
    const layout = cell.layout ?? newLayout(cell.type, cell.text);
    offsets.push(position + layout.before.length);
    position += cellsToText([{ ...cell, layout }]).length;
  }
  return offsets;
}

/** The index of the cell whose written text (fences and all) holds 1-based `line` of the text cellsToText writes, or undefined when there is no such line. */
export function cellAtLine(cells: readonly { type: CellData['type']; text: string; layout?: CellLayout }[], line: number): number | undefined {
  if (!Number.isInteger(line) || line < 1) return undefined;
  let lineStart = 0;
  const text = cellsToText(cells);
  for (let seen = 1; seen < line; seen++) {
    const next = text.indexOf('\n', lineStart);
    if (next === -1) return undefined;
    lineStart = next + 1;
  }
  if (lineStart >= text.length) return undefined;
  let position = 0;
  for (const [index, cell] of cells.entries()) {
    position += cellsToText([cell]).length;
    if (lineStart < position) return index;
  }
  return undefined;
}

/** Writes cells back as `.aexp` text; cells without a layout (added by the person) get a new one. */
export function cellsToText(cells: readonly { type: CellData['type']; text: string; layout?: CellLayout }[]): string {
  let text = '';
  for (const cell of cells) {
    const layout = cell.layout ?? newLayout(cell.type, cell.text);
    let after = layout.after;
    // A closing fence must start its own line, even after the person removed the body's last line ending.
    if (cell.type === 'code' && cell.text !== '' && after !== '' && !/^\r?\n/.test(after)) after = `\n${after}`;
    text += layout.before + cell.text + after;
  }
  return text;
}

/** Changes a code cell's kind: only its opening fence changes. */
export function withKind(layout: CellLayout, kind: CellKind): CellLayout {
  if (layout.kind === FRONT_MATTER) return layout;
  const fence = /```[^\r\n]*(\r?\n)$/.exec(layout.before);
  const before = fence ? layout.before.slice(0, fence.index) + '```' + kind + fence[1] : fenceFor(kind);
  return { ...layout, kind, before };
}
