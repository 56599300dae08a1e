/**
 * `--set cell.key=value` overrides: applied to the experiment's text (only the named cell's YAML
 * changes), so validation, diagnostics and the run folder's snapshot all see the effective file.
 */
import { parse, parseDocument } from 'yaml';
import type { CellBlock } from './document';
import { CELL_KINDS, parseAexp } from './document';
import { nearest } from './layers';

export class OverrideError extends Error {
  override name = 'OverrideError';
}

export interface Override {
  kind: string;
  path: string[];
  value: unknown;
}

export function parseOverride(text: string): Override {
  const match = /^([a-z]+)\.([A-Za-z_][\w.]*)=(.*)$/s.exec(text);
  if (!match) throw new OverrideError(`--set ${text}: write cell.key=value, e.g. --set train.epochs=3 or --set data.train_limit=1000`);
  const [, kind, key, raw] = match;
  if (!(CELL_KINDS as readonly string[]).includes(kind)) {
    const near = nearest(kind, CELL_KINDS);
    throw new OverrideError(`--set ${text}: \`${kind}\` is not a cell kind${near ? `; did you mean \`${near}\`?` : `; expected one of ${CELL_KINDS.join(', ')}`}`);
  }
  let value: unknown;
  try {
    value = parse(raw);
  } catch (error) {
    throw new OverrideError(`--set ${text}: the value is not valid YAML (${(error as Error).message.split('\n')[0]})`);
  }
  return { kind, path: key.split('.'), value };
}

/** Returns the text with each override written into the first cell of its kind. */
export function applyOverrides(text: string, file: string, overrides: readonly string[]): string {
  let result = text;
  for (const source of overrides) {
    const override = parseOverride(source);
    const document = parseAexp(result, file);
    const block = document.blocks.find((candidate): candidate is CellBlock => candidate.type === 'cell' && candidate.kind === override.kind);
    if (!block) throw new OverrideError(`--set ${source}: ${file} has no \`${override.kind}\` cell`);
    const yaml = parseDocument(block.body);
    if (yaml.errors.length > 0) throw new OverrideError(`--set ${source}: the ${override.kind} cell is not valid YAML; fix it first`);
    if (yaml.contents === null) yaml.contents = yaml.createNode({}) as unknown as typeof yaml.contents;
    yaml.setIn(override.path, override.value);
    let body = yaml.toString({ flowCollectionPadding: false });
    const ending = block.body.includes('\r\n') ? '\r\n' : '\n';
    if (ending === '\r\n') body = body.replace(/\r?\n/g, '\r\n');
    result = result.slice(0, block.bodyOffset) + body + result.slice(block.bodyOffset + block.body.length);
  }
  return result;
}
