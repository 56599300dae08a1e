/**
 * The `.aexp` document: Markdown with fenced YAML cells and optional YAML front matter.
 * Parsing keeps every byte of the source in exactly one block, so serialization is concatenation
 * and a cell that was not edited is written back unchanged.
 */
import { distance } from 'fastest-levenshtein';

export const CELL_KINDS = ['data', 'model', 'train', 'evaluate', 'reconstruct', 'sample', 'interpolate', 'traverse', 'explore', 'sweep'] as const;
export type CellKind = (typeof CELL_KINDS)[number];

export function isCellKind(value: string): value is CellKind {
  return (CELL_KINDS as readonly string[]).includes(value);
}

export interface FrontMatterBlock {
  type: 'frontMatter';
  /** The whole block, both `---` lines included. */
  raw: string;
  /** The YAML between the delimiters. */
  body: string;
  offset: number;
  bodyOffset: number;
}

export interface MarkdownBlock {
  type: 'markdown';
  raw: string;
  offset: number;
}

export interface CellBlock {
  type: 'cell';
  kind: CellKind;
  /** Opening fence line including its line ending, e.g. "```model\n". */
  open: string;
  body: string;
  /** Closing fence line including its line ending; empty when the fence is never closed. */
  close: string;
  offset: number;
  bodyOffset: number;
}

export type Block = FrontMatterBlock | MarkdownBlock | CellBlock;

export interface Position {
  /** 1-based. */
  line: number;
  /** 1-based, in UTF-16 code units like an editor column. */
  column: number;
}

export interface Diagnostic {
  severity: 'error' | 'warning';
  message: string;
  file: string;
  start: Position;
  end: Position;
  /** Replacement text for the located range, when there is one obvious fix ("did you mean"). */
  fix?: string;
  /** Index of the block the diagnostic belongs to, when it belongs to one. */
  block?: number;
}

export interface AexpDocument {
  file: string;
  text: string;
  blocks: Block[];
  lineStarts: number[];
  diagnostics: Diagnostic[];
}

export function computeLineStarts(text: string): number[] {
  const starts = [0];
  for (let index = 0; index < text.length; index++) {
    if (text.charCodeAt(index) === 10) starts.push(index + 1);
  }
  return starts;
}

export function positionAt(lineStarts: number[], offset: number): Position {
  let low = 0;
  let high = lineStarts.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (lineStarts[middle] <= offset) low = middle;
    else high = middle - 1;
  }
  return { line: low + 1, column: offset - lineStarts[low] + 1 };
}

interface Line {
  text: string;
  /** Line including its terminator. */
  full: string;
  offset: number;
}

function splitLines(text: string): Line[] {
  const lines: Line[] = [];
  let offset = 0;
  while (offset < text.length) {
    const newline = text.indexOf('\n', offset);
    const end = newline === -1 ? text.length : newline + 1;
    const full = text.slice(offset, end);
    lines.push({ full, text: full.replace(/\r?\n$/, ''), offset });
    offset = end;
  }
  return lines;
}

const FENCE_OPEN = /^( {0,3})(`{3,}|~{3,})\s*([^`\s]*)(.*)$/;

function closesFence(line: string, fence: string): boolean {
  const match = /^ {0,3}(`{3,}|~{3,})\s*$/.exec(line);
  return match !== null && match[1][0] === fence[0] && match[1].length >= fence.length;
}

/** The cell kind an unknown info string most likely meant, if it is within a typo of one. */
export function nearestCellKind(info: string): CellKind | undefined {
  const lower = info.toLowerCase();
  if (lower.length < 3) return undefined;
  let best: CellKind | undefined;
  let bestDistance = Infinity;
  for (const kind of CELL_KINDS) {
    const d = distance(lower, kind);
    if (d < bestDistance) {
      bestDistance = d;
      best = kind;
    }
  }
  const limit = best && best.length <= 4 ? 1 : 2;
  return bestDistance <= limit ? best : undefined;
}

export function parseAexp(text: string, file = '<input>'): AexpDocument {
  const lines = splitLines(text);
  const blocks: Block[] = [];
  const diagnostics: Diagnostic[] = [];
  const lineStarts = computeLineStarts(text);
  let index = 0;

  if (lines.length > 0 && /^---\s*$/.test(lines[0].text)) {
    for (let end = 1; end < lines.length; end++) {
      if (/^(---|\.\.\.)\s*$/.test(lines[end].text)) {
        const raw = lines.slice(0, end + 1).map((line) => line.full).join('');
        const bodyOffset = lines[1].offset;
        blocks.push({ type: 'frontMatter', raw, body: text.slice(bodyOffset, lines[end].offset), offset: 0, bodyOffset });
        index = end + 1;
        break;
      }
    }
  }

  let markdownStart = index < lines.length ? lines[index].offset : text.length;
  const flushMarkdown = (until: number) => {
    if (until > markdownStart) blocks.push({ type: 'markdown', raw: text.slice(markdownStart, until), offset: markdownStart });
  };

  while (index < lines.length) {
    const match = FENCE_OPEN.exec(lines[index].text);
    if (!match || (match[2][0] === '`' && match[4].includes('`'))) {
      index++;
      continue;
    }
    const fence = match[2];
    const info = match[3];
    let close = index + 1;
    while (close < lines.length && !closesFence(lines[close].text, fence)) close++;
    const closed = close < lines.length;

    if (isCellKind(info)) {
      flushMarkdown(lines[index].offset);
      const bodyOffset = index + 1 < lines.length ? lines[index + 1].offset : text.length;
      const bodyEnd = closed ? lines[close].offset : text.length;
      const block: CellBlock = {
        type: 'cell',
        kind: info,
        open: lines[index].full,
        body: text.slice(bodyOffset, bodyEnd),
        close: closed ? lines[close].full : '',
        offset: lines[index].offset,
        bodyOffset,
      };
      if (!closed) {
        diagnostics.push({
          severity: 'error',
          message: `the \`${info}\` cell opened here is never closed: add a line with ${fence}`,
          file,
          start: positionAt(lineStarts, lines[index].offset),
          end: positionAt(lineStarts, lines[index].offset + lines[index].text.length),
          block: blocks.length,
        });
      }
      blocks.push(block);
      index = closed ? close + 1 : lines.length;
      markdownStart = index < lines.length ? lines[index].offset : text.length;
      continue;
    }

    const suggestion = info ? nearestCellKind(info) : undefined;
    if (suggestion) {
      const infoOffset = lines[index].offset + lines[index].text.indexOf(info, match[1].length + fence.length);
      diagnostics.push({
        severity: 'warning',
        message: `\`${info}\` is not a cell kind, so this block stays Markdown; did you mean \`${suggestion}\`?`,
        file,
        start: positionAt(lineStarts, infoOffset),
        end: positionAt(lineStarts, infoOffset + info.length),
        fix: suggestion,
      });
    }
    index = closed ? close + 1 : lines.length;
  }
  flushMarkdown(text.length);
  return { file, text, blocks, lineStarts, diagnostics };
}

export function blockText(block: Block): string {
  return block.type === 'cell' ? block.open + block.body + block.close : block.raw;
}

export function serializeAexp(blocks: readonly Block[]): string {
  return blocks.map(blockText).join('');
}
