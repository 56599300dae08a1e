/**
 * Completion and hover for a cell's YAML, computed from the runtime's JSON schemas (the same ones
 * that validate the cell). Pure: the language providers in language.ts adapt it to `vscode`.
 */
import type { CellKind } from '../runtime/format/document';
import type { JsonSchema } from '../runtime/format/schema';
import { KIND_KEYS, cellSchemas, frontMatterSchema } from '../runtime/format/schema';

export interface Suggestion {
  label: string;
  /** A key (inserted with `: `) or a value. */
  role: 'key' | 'value';
  insertText: string;
  detail: string;
  documentation: string;
  /** Sorted first: the schema's default value. */
  preferred?: boolean;
}

export interface Hover {
  markdown: string;
  /** The hovered word's columns on its line. */
  start: number;
  end: number;
}

function schemaFor(kind: CellKind | 'front-matter'): JsonSchema {
  return kind === 'front-matter' ? frontMatterSchema : cellSchemas[kind];
}

function typeName(schema: JsonSchema): string {
  if (schema.enum) return schema.enum.map((value) => JSON.stringify(value)).join(' | ');
  if (schema.oneOf) return schema.oneOf.map(typeName).join(' or ');
  if (schema.type === 'array') return `list of ${schema.items ? typeName(schema.items) : 'values'}`;
  return Array.isArray(schema.type) ? schema.type.join(' | ') : schema.type ?? 'value';
}

/** Markdown for one key: what it means, its type, default, range, and the kinds it applies to. */
export function describeKey(key: string, schema: JsonSchema, cell: CellKind | 'front-matter'): string {
  const lines = [`**${key}** (${cell} cell): ${typeName(schema)}`, '', schema.description ?? ''];
  const facts: string[] = [];
  if (schema.default !== undefined) facts.push(`default \`${JSON.stringify(schema.default)}\``);
  const low = schema.minimum ?? schema.exclusiveMinimum;
  const high = schema.maximum ?? schema.exclusiveMaximum;
  if (low !== undefined || high !== undefined) facts.push(`range ${schema.exclusiveMinimum !== undefined ? '(' : '['}${low ?? '−∞'}, ${high ?? '∞'}${schema.exclusiveMaximum !== undefined ? ')' : ']'}`);
  if (cell === 'model' && KIND_KEYS[key]) facts.push(`only for kind ${KIND_KEYS[key].join(', ')}`);
  if (facts.length) lines.push('', facts.join(' · '));
  return lines.join('\n').trim();
}

interface LineInfo {
  indent: number;
  key?: string;
  /** Column where the value starts, after `key:` and spaces. */
  valueStart?: number;
}

function lineInfo(line: string): LineInfo {
  const match = /^(\s*)(?:-\s+)?([A-Za-z_][\w-]*)\s*:(\s*)/.exec(line);
  const indent = /^\s*/.exec(line)![0].length;
  if (!match) return { indent };
  return { indent, key: match[2], valueStart: match[0].length };
}

/** The chain of parent keys of a line, found by indentation (block mappings only). */
function parents(lines: string[], lineNumber: number, indent: number): string[] {
  const chain: string[] = [];
  let limit = indent;
  for (let index = lineNumber - 1; index >= 0 && limit > 0; index--) {
    if (!lines[index].trim()) continue;
    const info = lineInfo(lines[index]);
    if (info.indent < limit && info.key) {
      chain.unshift(info.key);
      limit = info.indent;
    }
  }
  return chain;
}

function objectAt(root: JsonSchema, path: string[]): JsonSchema | undefined {
  let schema: JsonSchema | undefined = root;
  for (const key of path) {
    const next: JsonSchema | undefined = schema?.properties?.[key];
    schema = next?.properties ? next : next?.oneOf?.find((option) => option.properties);
  }
  return schema;
}

/** The model cell's `kind:` value, to leave out keys that mean nothing for it. */
function modelKind(lines: string[]): string | undefined {
  for (const line of lines) {
    const match = /^kind\s*:\s*([\w-]+)/.exec(line);
    if (match) return match[1];
  }
  return undefined;
}

function valueSuggestions(schema: JsonSchema, key: string, cell: CellKind | 'front-matter'): Suggestion[] {
  const documentation = describeKey(key, schema, cell);
  const values = new Set<string>();
  const add = (option: JsonSchema) => {
    for (const value of option.enum ?? []) values.add(String(value));
    if (option.type === 'boolean') ['true', 'false'].forEach((value) => values.add(value));
    if (option.type === 'array' && option.items?.enum) for (const value of option.items.enum) values.add(String(value));
  };
  add(schema);
  for (const option of schema.oneOf ?? []) add(option);
  if (schema.default !== undefined && typeof schema.default !== 'object') values.add(String(schema.default));
  return [...values].map((value) => ({ label: value, role: 'value', insertText: value, detail: `${key}`, documentation, preferred: String(schema.default) === value }));
}

/**
 * What to offer at a position in a cell: the keys its schema allows that are not written yet
 * (at the start of a line), or the values a key allows (after `key:` or inside its `[…]` list).
 */
export function completions(cell: CellKind | 'front-matter', text: string, line: number, character: number): Suggestion[] {
  const lines = text.split(/\r?\n/);
  const current = lines[line] ?? '';
  const before = current.slice(0, character);
  const info = lineInfo(current);
  const root = schemaFor(cell);
  if (/(^|\s)#/.test(before)) return [];

  if (info.key && info.valueStart !== undefined && character >= info.valueStart) {
    const container = objectAt(root, parents(lines, line, info.indent));
    const schema = container?.properties?.[info.key];
    return schema ? valueSuggestions(schema, info.key, cell) : [];
  }
  if (!/^\s*[\w-]*$/.test(before)) return [];
  const indent = before.length - before.trimStart().length;
  const path = parents(lines, line, indent);
  const container = objectAt(root, path);
  if (!container?.properties) return [];
  const siblings = new Set(lines.filter((candidate, index) => index !== line && lineInfo(candidate).indent === indent).map((candidate) => lineInfo(candidate).key));
  const kind = cell === 'model' && path.length === 0 ? modelKind(lines) : undefined;
  return Object.entries(container.properties)
    .filter(([key]) => !siblings.has(key))
    .filter(([key]) => !(kind && KIND_KEYS[key] && !KIND_KEYS[key].includes(kind as never)))
    .map(([key, schema]) => ({ label: key, role: 'key', insertText: `${key}: `, detail: typeName(schema), documentation: describeKey(key, schema, cell) }));
}

/** Documentation for the key under the cursor, or for the key whose value is under it. */
export function hover(cell: CellKind | 'front-matter', text: string, line: number, character: number): Hover | undefined {
  const lines = text.split(/\r?\n/);
  const current = lines[line] ?? '';
  const info = lineInfo(current);
  if (!info.key) return undefined;
  const start = current.indexOf(info.key, info.indent);
  const onKey = character >= start && character <= start + info.key.length;
  const onValue = info.valueStart !== undefined && character >= info.valueStart && character < current.length;
  if (!onKey && !onValue) return undefined;
  const container = objectAt(schemaFor(cell), parents(lines, line, info.indent));
  const schema = container?.properties?.[info.key];
  if (!schema) return undefined;
  return { markdown: describeKey(info.key, schema, cell), start, end: onKey ? start + info.key.length : current.length };
}
