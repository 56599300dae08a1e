/**
 * Validation of a parsed `.aexp` document: YAML syntax, the schema of each cell kind, the layer
 * notation and the relations between cells. Every problem becomes a Diagnostic located in the file.
 */
import Ajv from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { isMap, isScalar, parseDocument } from 'yaml';
import type { Document, Node as YamlNode, Pair } from 'yaml';
import type { AexpDocument, CellBlock, CellKind, Diagnostic, Position } from './document';
import { CELL_KINDS, parseAexp, positionAt } from './document';
import type { LayerSpec } from './layers';
import { isLayerError, nearest, parseLayer } from './layers';
import type { CellConfigs, FrontMatter, JsonSchema } from './schema';
import { KIND_KEYS, VARIATIONAL_KINDS, cellSchemas, frontMatterSchema } from './schema';
import type { BackendName } from '../backends/names';
import { datasetClassCount, datasetShape } from '../data/shapes';
import { largestBufferBytes, largestByteArray, modelMemoryLimit, processMemoryBytes } from '../resources';
import type { KeyPath, MemoryLimits } from './memory';
import { estimateDataMemory, estimateModelMemory, memoryFindings } from './memory';
import { sweepDiagnostics } from '../sweep/sweep-cell';

export interface ParsedCell<K extends CellKind = CellKind> {
  kind: K;
  /** Index of the cell's block in the document. */
  block: number;
  /** The configuration with defaults filled; undefined when the cell has errors. */
  config?: CellConfigs[K];
  /** The cell's body text, as written. */
  source: string;
}

export interface Experiment {
  document: AexpDocument;
  frontMatter: FrontMatter;
  cells: ParsedCell[];
  diagnostics: Diagnostic[];
  /** Parsed layers of the model cell, when it is valid. */
  layers?: { encoder: LayerSpec[]; decoder: 'mirror' | LayerSpec[] };
}

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false });
const validators = new Map<string, ValidateFunction>();
function validatorFor(name: string, schema: JsonSchema): ValidateFunction {
  let validator = validators.get(name);
  if (!validator) {
    validator = ajv.compile(schema as object);
    validators.set(name, validator);
  }
  return validator;
}

type Located = { start: number; end: number };

class CellLocator {
  constructor(
    private readonly document: AexpDocument,
    private readonly yaml: Document | undefined,
    private readonly bodyOffset: number,
    private readonly fallback: Located,
  ) {}

  private nodeAt(path: (string | number)[]): YamlNode | undefined {
    if (!this.yaml) return undefined;
    if (path.length === 0) return (this.yaml.contents as YamlNode | null) ?? undefined;
    const node = this.yaml.getIn(path, true);
    return node && typeof node === 'object' && 'range' in (node as object) ? (node as YamlNode) : undefined;
  }

  private keyPair(path: (string | number)[], key: string): Pair | undefined {
    const parent = this.nodeAt(path);
    if (!parent || !isMap(parent)) return undefined;
    return parent.items.find((pair) => isScalar(pair.key) && String(pair.key.value) === key);
  }

  value(path: (string | number)[]): Located {
    const node = this.nodeAt(path);
    if (node?.range) return { start: this.bodyOffset + node.range[0], end: this.bodyOffset + node.range[1] };
    return path.length > 0 ? this.key(path.slice(0, -1), String(path[path.length - 1])) : this.fallback;
  }

  key(path: (string | number)[], key: string): Located {
    const pair = this.keyPair(path, key);
    const node = pair?.key as YamlNode | undefined;
    if (node?.range) return { start: this.bodyOffset + node.range[0], end: this.bodyOffset + node.range[1] };
    return path.length > 0 ? this.value(path) : this.fallback;
  }

  /** The cell's opening fence: where a problem of the whole cell (a missing key) is shown. */
  header(): Located {
    return this.fallback;
  }

  position(offset: number): Position {
    return positionAt(this.document.lineStarts, offset);
  }
}

function pointerToPath(pointer: string): (string | number)[] {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part));
}

function schemaAt(schema: JsonSchema, path: (string | number)[]): JsonSchema | undefined {
  let current: JsonSchema | undefined = schema;
  for (const part of path) {
    if (!current) return undefined;
    if (typeof part === 'number') current = current.items ?? current.oneOf?.find((branch) => branch.items)?.items;
    else current = current.properties?.[part];
  }
  return current;
}

function describePath(path: (string | number)[]): string {
  return path.length === 0 ? 'the cell' : `\`${path.map((part) => (typeof part === 'number' ? `[${part}]` : part)).join('.').replace(/\.\[/g, '[')}\``;
}

function valueText(value: unknown): string {
  return typeof value === 'string' ? `\`${value}\`` : JSON.stringify(value);
}

function getAt(value: unknown, path: (string | number)[]): unknown {
  let current = value;
  for (const part of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[part];
  }
  return current;
}

function enumSuggestion(value: unknown, options: readonly unknown[]): { text: string; fix?: string } {
  const strings = options.filter((option): option is string => typeof option === 'string');
  if (typeof value === 'string' && strings.length > 0) {
    const near = nearest(value, strings);
    if (near) return { text: `; did you mean \`${near}\`?`, fix: near };
  }
  return { text: `; expected one of ${options.map((option) => String(option)).join(', ')}` };
}

function schemaErrorsToDiagnostics(
  errors: ErrorObject[],
  schema: JsonSchema,
  data: unknown,
  where: string,
  locator: CellLocator,
  file: string,
  block: number | undefined,
): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const oneOfPaths = new Set(errors.filter((error) => error.keyword === 'oneOf').map((error) => error.instancePath));
  const seen = new Set<string>();
  const push = (located: Located, message: string, fix?: string) => {
    const key = `${located.start}:${message}`;
    if (seen.has(key)) return;
    seen.add(key);
    diagnostics.push({ severity: 'error', message, file, start: locator.position(located.start), end: locator.position(located.end), fix, block });
  };

  for (const error of errors) {
    const path = pointerToPath(error.instancePath);
    if (oneOfPaths.has(error.instancePath) && error.keyword !== 'oneOf') continue;
    const value = getAt(data, path);
    switch (error.keyword) {
      case 'additionalProperties': {
        const key = String((error.params as { additionalProperty: string }).additionalProperty);
        const known = Object.keys(schemaAt(schema, path)?.properties ?? {});
        const near = nearest(key, known);
        const siblings = getAt(data, path);
        // Suggesting a key the mapping already has would lead to a duplicate: say it is set instead.
        const alreadySet = near !== undefined && siblings !== null && typeof siblings === 'object' && Object.hasOwn(siblings, near);
        const hint = near ? (alreadySet ? `; \`${near}\` is already set, so this line is probably left over` : `; did you mean \`${near}\`?`) : `; known keys: ${known.join(', ')}`;
        push(locator.key(path, key), `unknown key \`${key}\` in ${where}${hint}`, near);
        break;
      }
      case 'required': {
        const missing = (error.params as { missingProperty: string }).missingProperty;
        const description = schemaAt(schema, [...path, missing])?.description;
        // A missing top-level key belongs to the cell, not to its whole body: point at the fence.
        push(path.length ? locator.value(path) : locator.header(), `${where} needs \`${missing}\`${path.length ? ` in ${describePath(path)}` : ''}${description ? ` (${description})` : ''}`);
        break;
      }
      case 'enum': {
        const hint = enumSuggestion(value, (error.params as { allowedValues: unknown[] }).allowedValues);
        push(locator.value(path), `${valueText(value)} is not a valid ${describePath(path)}${hint.text}`, hint.fix);
        break;
      }
      case 'oneOf': {
        const branches = schemaAt(schema, path)?.oneOf ?? [];
        const options = branches.flatMap((branch) => branch.enum ?? []);
        const hint = options.length > 0 ? enumSuggestion(value, options) : undefined;
        const description = schemaAt(schema, path)?.description;
        push(locator.value(path), `${valueText(value)} is not a valid ${describePath(path)}${hint?.fix ? hint.text : ''}${description ? ` (${description})` : ''}`, hint?.fix);
        break;
      }
      case 'type':
        push(locator.value(path), `${describePath(path)} must be ${(error.params as { type: string }).type === 'integer' ? 'a whole number' : `of type ${(error.params as { type: string }).type}`}, not ${valueText(value)}`);
        break;
      default:
        push(locator.value(path), `${describePath(path)} ${error.message ?? 'is invalid'}${value === undefined ? '' : ` (got ${valueText(value)})`}`);
    }
  }
  return diagnostics;
}

interface YamlResult {
  value: unknown;
  yaml?: Document;
  diagnostics: Diagnostic[];
}

function parseYamlBody(document: AexpDocument, body: string, bodyOffset: number, block: number | undefined): YamlResult {
  const yaml = parseDocument(body, { prettyErrors: false, uniqueKeys: true });
  const diagnostics: Diagnostic[] = [];
  for (const problem of [...yaml.errors, ...yaml.warnings]) {
    const start = bodyOffset + Math.min(problem.pos[0], body.length);
    const end = bodyOffset + Math.min(Math.max(problem.pos[1], problem.pos[0]), body.length);
    const message = problem.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
    diagnostics.push({
      severity: yaml.errors.includes(problem as never) ? 'error' : 'warning',
      message: `YAML: ${message}`,
      file: document.file,
      start: positionAt(document.lineStarts, start),
      end: positionAt(document.lineStarts, end),
      block,
    });
  }
  if (yaml.errors.length > 0) return { value: undefined, diagnostics };
  let value: unknown;
  try {
    value = yaml.toJS({ maxAliasCount: 100 });
  } catch (error) {
    diagnostics.push({
      severity: 'error',
      message: `YAML: ${(error as Error).message}`,
      file: document.file,
      start: positionAt(document.lineStarts, bodyOffset),
      end: positionAt(document.lineStarts, bodyOffset + body.length),
      block,
    });
    return { value: undefined, diagnostics };
  }
  return { value: value ?? {}, yaml, diagnostics };
}

function checkAgainstSchema(
  document: AexpDocument,
  name: string,
  schema: JsonSchema,
  body: string,
  bodyOffset: number,
  fallback: Located,
  where: string,
  block: number | undefined,
): { config?: unknown; yaml?: Document; locator: CellLocator; diagnostics: Diagnostic[] } {
  const parsed = parseYamlBody(document, body, bodyOffset, block);
  const locator = new CellLocator(document, parsed.yaml, bodyOffset, fallback);
  if (parsed.value === undefined) return { locator, diagnostics: parsed.diagnostics };
  if (typeof parsed.value !== 'object' || Array.isArray(parsed.value)) {
    parsed.diagnostics.push({
      severity: 'error',
      message: `${where} must be a set of \`key: value\` lines, not ${Array.isArray(parsed.value) ? 'a list' : valueText(parsed.value)}`,
      file: document.file,
      start: locator.position(fallback.start),
      end: locator.position(fallback.end),
      block,
    });
    return { locator, diagnostics: parsed.diagnostics };
  }
  const data = structuredClone(parsed.value);
  const validate = validatorFor(name, schema);
  if (!validate(data)) {
    parsed.diagnostics.push(...schemaErrorsToDiagnostics(validate.errors ?? [], schema, parsed.value, where, locator, document.file, block));
    return { locator, yaml: parsed.yaml, diagnostics: parsed.diagnostics };
  }
  return { config: data, yaml: parsed.yaml, locator, diagnostics: parsed.diagnostics };
}

function checkLayers(
  list: string[],
  key: 'encoder' | 'decoder',
  locator: CellLocator,
  file: string,
  block: number,
  diagnostics: Diagnostic[],
  yaml: Document | undefined,
): LayerSpec[] | undefined {
  const layers: LayerSpec[] = [];
  let ok = true;
  list.forEach((text, index) => {
    const result = parseLayer(text);
    if (!isLayerError(result)) {
      layers.push(result);
      return;
    }
    ok = false;
    const node = yaml?.getIn([key, index], true) as YamlNode | undefined;
    const located = locator.value([key, index]);
    // Point at the token itself when the scalar is written plainly (its source equals its value).
    let start = located.start;
    let end = located.end;
    if (node && isScalar(node) && !node.type?.startsWith('QUOTE')) {
      start = located.start + result.offset;
      end = start + Math.max(1, result.length);
    } else if (node && isScalar(node)) {
      start = located.start + 1 + result.offset;
      end = start + Math.max(1, result.length);
    }
    diagnostics.push({ severity: 'error', message: `${key}[${index}]: ${result.message}`, file, start: locator.position(start), end: locator.position(end), fix: result.fix, block });
  });
  return ok ? layers : undefined;
}

const PIPELINE: Record<CellKind, CellKind[]> = {
  data: [],
  model: ['data'],
  train: ['data', 'model'],
  evaluate: ['data', 'model', 'train'],
  reconstruct: ['data', 'model', 'train'],
  sample: ['data', 'model', 'train'],
  interpolate: ['data', 'model', 'train'],
  traverse: ['data', 'model', 'train'],
  explore: ['data', 'model', 'train'],
  sweep: [],
};

/** What the memory check compares with; each defaults to this process and a CPU-side backend. */
export interface ResourceOptions {
  /** The backend that will hold the model (its largest tensor, wasm's heap). */
  backend?: BackendName;
  /** The memory this process may use, in bytes (tests pin it). */
  availableBytes?: number;
}

let processMemory: number | undefined;

export function memoryLimits(options: ResourceOptions = {}): MemoryLimits {
  processMemory ??= processMemoryBytes();
  const availableBytes = options.availableBytes ?? processMemory;
  return {
    availableBytes,
    modelBytes: modelMemoryLimit(options.backend, availableBytes),
    largestTensorBytes: largestBufferBytes(options.backend),
    largestByteArray: largestByteArray(),
    backend: options.backend === 'auto' ? undefined : options.backend,
  };
}

/**
 * Refuses, at the key that asks for it, a model or dataset that cannot fit in memory: checked
 * from the configuration alone, before the engine allocates anything. `shape` and `classes` come
 * from the loaded dataset where the configuration does not say them (a folder).
 */
export function checkMemory(experiment: Experiment, options: ResourceOptions & { shape?: [number, number, number]; classes?: number } = {}): Diagnostic[] {
  const data = cellConfig(experiment, 'data');
  if (!data) return [];
  const model = cellConfig(experiment, 'model');
  const train = cellConfig(experiment, 'train');
  const shape = options.shape ?? datasetShape(data);
  const dataEstimate = options.shape ? undefined : estimateDataMemory(data);
  const modelEstimate = model && experiment.layers && shape
    ? estimateModelMemory(model, experiment.layers, shape, { batch: data.batch, classes: options.classes ?? datasetClassCount(data), train })
    : undefined;
  return memoryFindings(dataEstimate, modelEstimate, memoryLimits(options)).map((finding) => diagnosticAtPath(experiment, finding.cell, finding.path, finding.message));
}

export function validateExperiment(document: AexpDocument, resources: ResourceOptions = {}): Experiment {
  const diagnostics: Diagnostic[] = [...document.diagnostics];
  const cells: ParsedCell[] = [];
  let frontMatter: FrontMatter = { seed: 0 };
  let layers: Experiment['layers'];
  const positionOf = (offset: number) => positionAt(document.lineStarts, offset);

  document.blocks.forEach((block, index) => {
    if (block.type === 'frontMatter') {
      const fallback = { start: 0, end: 3 };
      const result = checkAgainstSchema(document, 'frontMatter', frontMatterSchema, block.body, block.bodyOffset, fallback, 'the front matter', undefined);
      diagnostics.push(...result.diagnostics);
      if (result.config) frontMatter = result.config as FrontMatter;
      return;
    }
    if (block.type !== 'cell') return;
    const cell = block as CellBlock;
    const fallback = { start: cell.offset, end: cell.offset + cell.open.replace(/\r?\n$/, '').length };
    const where = `the ${cell.kind} cell`;
    const result = checkAgainstSchema(document, cell.kind, cellSchemas[cell.kind], cell.body, cell.bodyOffset, fallback, where, index);
    diagnostics.push(...result.diagnostics);
    const parsed: ParsedCell = { kind: cell.kind, block: index, source: cell.body };
    if (result.config) {
      parsed.config = result.config as CellConfigs[CellKind];
      if (cell.kind === 'model') {
        const model = parsed.config as CellConfigs['model'];
        const before = diagnostics.length;
        const encoder = checkLayers(model.encoder, 'encoder', result.locator, document.file, index, diagnostics, result.yaml);
        const decoder = model.decoder === 'mirror' ? 'mirror' : checkLayers(model.decoder, 'decoder', result.locator, document.file, index, diagnostics, result.yaml);
        if (encoder && decoder) layers = { encoder, decoder };
        for (const [key, kinds] of Object.entries(KIND_KEYS)) {
          if (result.yaml?.has(key) && !kinds.includes(model.kind)) {
            const reason = key === 'skips' ? ': skip connections bypass the bottleneck, so a variational model would not need its code' : '';
            diagnostics.push({ severity: 'error', message: `\`${key}\` applies to ${kinds.map((kind) => `\`${kind}\``).join(', ')}, not to \`${model.kind}\`${reason}`, file: document.file, ...rangeOf(result.locator.key([], key), positionOf), block: index });
          }
        }
        if (model.skips && model.decoder !== 'mirror') {
          diagnostics.push({ severity: 'error', message: '`skips: true` needs `decoder: mirror`, so that each decoder scale has an encoder scale to join', file: document.file, ...rangeOf(result.locator.key([], 'skips'), positionOf), block: index });
        }
        if (diagnostics.length > before) parsed.config = undefined;
      }
      if (cell.kind === 'sweep') diagnostics.push(...sweepDiagnostics(document.text, document.file).map((diagnostic) => ({ ...diagnostic, block: index })));
      if (cell.kind === 'data') {
        const data = parsed.config as CellConfigs['data'];
        if (data.dataset === 'folder' && !data.path) {
          diagnostics.push({ severity: 'error', message: 'the data cell needs `path` (the image folder) when `dataset: folder`', file: document.file, ...rangeOf(result.locator.value(['dataset']), positionOf), block: index });
          parsed.config = undefined;
        }
        for (const key of ['path', 'channels'] as const) {
          if (data[key] !== undefined && data.dataset !== 'folder') {
            diagnostics.push({ severity: 'warning', message: `\`${key}\` only applies to \`dataset: folder\`; it is ignored for ${data.dataset}`, file: document.file, ...rangeOf(result.locator.key([], key), positionOf), block: index });
          }
        }
      }
    }
    cells.push(parsed);
  });

  const firstOf = new Map<CellKind, ParsedCell>();
  for (const cell of cells) {
    const block = document.blocks[cell.block] as CellBlock;
    const header = { start: positionOf(block.offset), end: positionOf(block.offset + block.open.replace(/\r?\n$/, '').length) };
    if ((cell.kind === 'data' || cell.kind === 'model' || cell.kind === 'train' || cell.kind === 'sweep') && firstOf.has(cell.kind)) {
      const first = firstOf.get(cell.kind)!;
      const line = positionOf((document.blocks[first.block] as CellBlock).offset).line;
      diagnostics.push({ severity: 'error', message: `a second \`${cell.kind}\` cell: an experiment has one (the first is at line ${line})`, file: document.file, ...header, block: cell.block });
      cell.config = undefined;
      continue;
    }
    const missing = PIPELINE[cell.kind].filter((kind) => !firstOf.has(kind));
    if (missing.length > 0) {
      diagnostics.push({ severity: 'error', message: `the ${cell.kind} cell needs ${missing.map((kind) => `a \`${kind}\` cell`).join(' and ')} above it`, file: document.file, ...header, block: cell.block });
    }
    const modelKind = (firstOf.get('model')?.config as CellConfigs['model'] | undefined)?.kind;
    if (cell.kind === 'sample' && modelKind && !VARIATIONAL_KINDS.includes(modelKind)) {
      diagnostics.push({ severity: 'error', message: `the sample cell decodes draws from the prior, and a \`${modelKind}\` has none: use a variational kind (${VARIATIONAL_KINDS.join(', ')})`, file: document.file, ...header, block: cell.block });
    }
    diagnostics.push(...latentCellFindings(cell, firstOf.get('model')?.config as CellConfigs['model'] | undefined, document, block));
    if (!firstOf.has(cell.kind)) firstOf.set(cell.kind, cell);
  }
  const experiment: Experiment = { document, frontMatter, cells, diagnostics, layers };
  if (!diagnostics.some((diagnostic) => diagnostic.severity === 'error')) diagnostics.push(...checkMemory(experiment, resources));
  diagnostics.sort((a, b) => a.start.line - b.start.line || a.start.column - b.start.column);
  return experiment;
}

/** What the interpolate, traverse and explore cells ask of the model that its kind or code cannot give. */
function latentCellFindings(cell: ParsedCell, model: CellConfigs['model'] | undefined, document: AexpDocument, block: CellBlock): Diagnostic[] {
  if (!model || !cell.config) return [];
  const yaml = parseDocument(block.body);
  const header = { start: block.offset, end: block.offset + block.open.replace(/\r?\n$/, '').length };
  const locator = new CellLocator(document, yaml, block.bodyOffset, header);
  const at = (key: string, severity: Diagnostic['severity'], message: string): Diagnostic => ({ severity, message, file: document.file, ...rangeOf(yaml.has(key) ? locator.key([], key) : header, (offset) => positionAt(document.lineStarts, offset)), block: cell.block });
  const findings: Diagnostic[] = [];
  if ((cell.kind === 'interpolate' || cell.kind === 'traverse') && model.skips) {
    findings.push(at('', 'warning', `the ${cell.kind} cell decodes free latent points, and this model's U-Net skips need an input image's features to decode: the cell will say so instead of drawing`));
  }
  if (cell.kind === 'interpolate' && (cell.config as CellConfigs['interpolate']).between === 'classes' && model.kind !== 'cvae') {
    findings.push(at('between', 'error', `\`between: classes\` interpolates between class means with the class condition, which only a \`cvae\` has (this model is a \`${model.kind}\`); use \`between: images\``));
  }
  if (cell.kind === 'explore' && (cell.config as CellConfigs['explore']).projection === 'none' && model.latent !== 2) {
    findings.push(at('projection', 'error', `\`projection: none\` plots the code itself, which needs \`latent: 2\` (this model's code has ${model.latent} dimensions); use \`pca\` or \`umap\``));
  }
  return findings;
}

function rangeOf(located: Located, positionOf: (offset: number) => Position): { start: Position; end: Position } {
  return { start: positionOf(located.start), end: positionOf(located.end) };
}

export function loadExperiment(text: string, file: string, resources: ResourceOptions = {}): Experiment {
  return validateExperiment(parseAexp(text, file), resources);
}

export function cellConfig<K extends CellKind>(experiment: Experiment, kind: K): CellConfigs[K] | undefined {
  return experiment.cells.find((cell) => cell.kind === kind)?.config as CellConfigs[K] | undefined;
}

export function formatDiagnostic(diagnostic: Diagnostic): string {
  return `${diagnostic.file}:${diagnostic.start.line}:${diagnostic.start.column}: ${diagnostic.severity}: ${diagnostic.message}`;
}

export { CELL_KINDS };

/** A diagnostic on a key of a cell (or the cell's header when the key is absent), for checks made after validation. */
export function diagnosticAtKey(experiment: Experiment, kind: CellKind, key: string, message: string): Diagnostic {
  return diagnosticAtPath(experiment, kind, [key], message);
}

/** A diagnostic on a key (`['count']`) or a list item (`['encoder', 2]`) of a cell, for checks made after validation. */
export function diagnosticAtPath(experiment: Experiment, kind: CellKind, path: KeyPath, message: string): Diagnostic {
  const { document } = experiment;
  const cell = experiment.cells.find((candidate) => candidate.kind === kind);
  const block = cell ? (document.blocks[cell.block] as CellBlock) : undefined;
  if (!block) return { severity: 'error', message, file: document.file, start: { line: 1, column: 1 }, end: { line: 1, column: 1 } };
  const yaml = parseDocument(block.body);
  const header = { start: block.offset, end: block.offset + block.open.replace(/\r?\n$/, '').length };
  const locator = new CellLocator(document, yaml, block.bodyOffset, header);
  const located = path.length === 1 ? locator.key([], String(path[0])) : locator.value(path);
  return { severity: 'error', message, file: document.file, start: positionAt(document.lineStarts, located.start), end: positionAt(document.lineStarts, located.end), block: cell!.block };
}

/** A cell's configuration with the schema's defaults filled in (for code that builds configs, e.g. tests and templates). */
export function withDefaults<K extends CellKind>(kind: K, partial: Partial<CellConfigs[K]>): CellConfigs[K] {
  const copy = structuredClone(partial) as Record<string, unknown>;
  validatorFor(kind, cellSchemas[kind])(copy);
  return copy as unknown as CellConfigs[K];
}
