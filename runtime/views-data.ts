/**
 * The run folder's `views/`: the pixels and per-image losses the notebook's history views scrub
 * and diff, for the fixed test examples of each epoch's reconstruction grid. A composite PNG
 * cannot be diffed or scrubbed, and a loss cannot be recomputed from uint8 pixels, so the runtime
 * writes both as it trains. No TF.js and no vscode here: the extension reads these files too.
 *
 *   views/inputs.bin        once: the test inputs (as the model sees them before corruption), the
 *                           corrupted inputs (denoising-ae) or the masked inputs and their mask (masked-ae)
 *   views/epoch-NNNN.bin    per epoch: the reconstructions, each image's loss terms, and for
 *                           variational kinds the decoding of the same prior draws every epoch
 *   views/reconstruct.bin   the reconstruct cell: its examples' inputs (as inputs.bin) and the final
 *                           checkpoint's reconstructions and losses (as an epoch file), in one file
 *   views/sample.bin        the sample cell: the final checkpoint's samples
 *
 * Every file: the 8 bytes `AEXPVIEW`, a little-endian uint32 header length, a JSON header padded
 * with spaces to a multiple of 4 bytes (`version`, `kind`, and `sections`: name, type and shape of
 * each array), then the arrays in that order, each padded to 4 bytes. Pixels are uint8 (0–255,
 * [n, h, w, c]); losses are float32 per image, in the run's units.
 */
import type { Stats } from 'node:fs';
import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readSync, readdirSync, rmSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { lstat, open, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { LossUnits } from './protocol';
import { writeFileAtomic } from './util/atomic-file';

export const VIEWS_FOLDER = 'views';
export const VIEW_FORMAT_VERSION = 1;
const MAGIC = Buffer.from('AEXPVIEW', 'latin1');
const PREAMBLE_BYTES = MAGIC.length + 4;
const MAX_HEADER_BYTES = 64 * 1024;
/** No views file of a real run comes near this; a bigger one is not read into memory. */
const MAX_FILE_BYTES = 64 * 1024 * 1024;
const EPOCH_FILE = /^epoch-(\d{4,})\.bin$/;

type SectionType = 'uint8' | 'float32';
interface SectionHeader {
  name: string;
  type: SectionType;
  shape: number[];
}
interface Section extends SectionHeader {
  values: Uint8Array | Float32Array;
}

/** The fixed test examples, written once per run. */
export interface ViewInputs {
  modelKind: string;
  units: LossUnits;
  /** The test split's indices of the examples, in order. */
  examples: number[];
  /** [height, width, channels] of one image. */
  shape: [number, number, number];
  /** [n, h, w, c]: the clean inputs. */
  inputs: Uint8Array;
  /** denoising-ae: the corrupted inputs; masked-ae: the inputs with masked patches mid-grey. */
  corrupted?: Uint8Array;
  /** masked-ae: [n, h, w, 1], 1 where masked. */
  mask?: Uint8Array;
}

/** One epoch's images of the fixed examples and draws. */
export interface ViewEpoch {
  epoch: number;
  /** [n, h, w, c]. */
  reconstructions: Uint8Array;
  /** Each image's objective, with the regularizer's final weights (what the test loss reports). */
  loss: Float32Array;
  /** Each image's reconstruction term (masked pixels only, for masked-ae). */
  reconstruction: Float32Array;
  /** Variational kinds: each image's KL. */
  kl?: Float32Array;
  /** Variational kinds: the same prior draws decoded, [m, h, w, c]. */
  samples?: Uint8Array;
  /** How many samples a grid row holds (one row per class for a cvae). */
  sampleColumns?: number;
}

/** The reconstruct cell's images: its examples (as inputs.bin holds them) and the final checkpoint's reconstructions. */
export interface ReconstructView {
  inputs: ViewInputs;
  view: ViewEpoch;
}

/** The sample cell's images: the final checkpoint's samples. */
export interface SampleView {
  modelKind: string;
  units: LossUnits;
  /** [height, width, channels] of one image. */
  shape: [number, number, number];
  /** The epochs trained when they were drawn. */
  epoch: number;
  /** [m, h, w, c]. */
  samples: Uint8Array;
  /** How many samples a grid row holds (one row per class for a cvae). */
  sampleColumns: number;
}

export interface ViewHistory extends ViewInputs {
  version: number;
  /** Every epoch written, oldest first. */
  epochs: ViewEpoch[];
}

export function viewsFolder(runDir: string): string {
  return path.join(runDir, VIEWS_FOLDER);
}

export function viewInputsFile(runDir: string): string {
  return path.join(viewsFolder(runDir), 'inputs.bin');
}

export function viewEpochFile(runDir: string, epoch: number): string {
  return path.join(viewsFolder(runDir), `epoch-${String(epoch).padStart(4, '0')}.bin`);
}

export function viewCellFile(runDir: string, cell: 'reconstruct' | 'sample'): string {
  return path.join(viewsFolder(runDir), `${cell}.bin`);
}

/** [0, 1] floats → bytes, rounded as the PNG grids are. */
export function quantizePixels(pixels: Float32Array): Uint8Array {
  const out = new Uint8Array(pixels.length);
  for (let index = 0; index < pixels.length; index++) out[index] = Math.max(0, Math.min(255, Math.round(pixels[index] * 255)));
  return out;
}

function padding(length: number): number {
  return (4 - (length % 4)) % 4;
}

function encode(header: Record<string, unknown>, sections: Section[]): Buffer[] {
  const described = { version: VIEW_FORMAT_VERSION, ...header, sections: sections.map(({ name, type, shape }) => ({ name, type, shape })) };
  let json = JSON.stringify(described);
  json += ' '.repeat(padding(Buffer.byteLength(json)));
  const headerBytes = Buffer.from(json);
  const length = Buffer.alloc(4);
  length.writeUInt32LE(headerBytes.length);
  const chunks: Buffer[] = [MAGIC, length, headerBytes];
  for (const section of sections) {
    const bytes = Buffer.from(section.values.buffer, section.values.byteOffset, section.values.byteLength);
    chunks.push(bytes, Buffer.alloc(padding(bytes.length)));
  }
  return chunks;
}

function inputSections(inputs: ViewInputs): Section[] {
  const [height, width, channels] = inputs.shape;
  const count = inputs.examples.length;
  const sections: Section[] = [{ name: 'inputs', type: 'uint8', shape: [count, height, width, channels], values: inputs.inputs }];
  if (inputs.corrupted) sections.push({ name: 'corrupted', type: 'uint8', shape: [count, height, width, channels], values: inputs.corrupted });
  if (inputs.mask) sections.push({ name: 'mask', type: 'uint8', shape: [count, height, width, 1], values: inputs.mask });
  return sections;
}

function epochSections(shape: [number, number, number], view: ViewEpoch): Section[] {
  const count = view.loss.length;
  const sections: Section[] = [
    { name: 'reconstructions', type: 'uint8', shape: [count, ...shape], values: view.reconstructions },
    { name: 'loss', type: 'float32', shape: [count], values: view.loss },
    { name: 'reconstruction', type: 'float32', shape: [count], values: view.reconstruction },
  ];
  if (view.kl) sections.push({ name: 'kl', type: 'float32', shape: [count], values: view.kl });
  if (view.samples) sections.push({ name: 'samples', type: 'uint8', shape: [view.samples.length / (shape[0] * shape[1] * shape[2]), ...shape], values: view.samples });
  return sections;
}

function inputsHeader(inputs: ViewInputs): Record<string, unknown> {
  return { modelKind: inputs.modelKind, units: inputs.units, examples: inputs.examples };
}

/** Writes `views/inputs.bin` (atomically, replacing any earlier one). */
export function writeViewInputs(runDir: string, inputs: ViewInputs): void {
  mkdirSync(viewsFolder(runDir), { recursive: true });
  writeFileAtomic(viewInputsFile(runDir), encode({ kind: 'inputs', ...inputsHeader(inputs) }, inputSections(inputs)));
}

/** Writes `views/epoch-NNNN.bin` (atomically: an epoch trained again after a resume replaces its own file). */
export function writeViewEpoch(runDir: string, shape: [number, number, number], view: ViewEpoch): void {
  mkdirSync(viewsFolder(runDir), { recursive: true });
  writeFileAtomic(viewEpochFile(runDir, view.epoch), encode({ kind: 'epoch', epoch: view.epoch, ...(view.sampleColumns !== undefined ? { sampleColumns: view.sampleColumns } : {}) }, epochSections(shape, view)));
}

/** Writes `views/reconstruct.bin` (atomically): the reconstruct cell's examples and the final checkpoint's reconstructions of them. */
export function writeReconstructView(runDir: string, { inputs, view }: ReconstructView): void {
  mkdirSync(viewsFolder(runDir), { recursive: true });
  writeFileAtomic(viewCellFile(runDir, 'reconstruct'), encode({ kind: 'reconstruct', ...inputsHeader(inputs), epoch: view.epoch }, [...inputSections(inputs), ...epochSections(inputs.shape, view)]));
}

/** Writes `views/sample.bin` (atomically): the sample cell's draws from the final checkpoint. */
export function writeSampleView(runDir: string, view: SampleView): void {
  const [height, width, channels] = view.shape;
  const count = view.samples.length / (height * width * channels);
  mkdirSync(viewsFolder(runDir), { recursive: true });
  writeFileAtomic(viewCellFile(runDir, 'sample'), encode({ kind: 'sample', modelKind: view.modelKind, units: view.units, epoch: view.epoch, sampleColumns: view.sampleColumns }, [{ name: 'samples', type: 'uint8', shape: [count, height, width, channels], values: view.samples }]));
}

/** Before a resume from the end of `epoch` (or within epoch + 1): removes the files of later epochs, which are trained again. */
export function truncateViewHistory(runDir: string, epoch: number): number {
  let removed = 0;
  for (const name of epochFileNames(runDir)) {
    if (Number(EPOCH_FILE.exec(name)![1]) <= epoch) continue;
    rmSync(path.join(viewsFolder(runDir), name), { force: true });
    removed++;
  }
  return removed;
}

function epochFileNames(runDir: string): string[] {
  try {
    return readdirSync(viewsFolder(runDir), { withFileTypes: true }).filter((entry) => entry.isFile() && EPOCH_FILE.test(entry.name)).map((entry) => entry.name);
  } catch {
    return [];
  }
}

interface ParsedFile {
  header: Record<string, unknown>;
  sections: Map<string, Section>;
}

/** Reads and checks one views file; throws one line naming it. `undefined` when it does not exist. */
function readViewFile(file: string): ParsedFile | undefined {
  let descriptor: number;
  try {
    // Where the platform has no O_NOFOLLOW (Windows), symbolic links need privileges to create.
    // Non-blocking: a FIFO in a repository's run folder cannot hang the reader (it is refused as not a plain file).
    descriptor = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOFOLLOW ?? 0));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`${file}: cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, { cause: error });
  }
  let bytes: Buffer;
  try {
    const info = fstatSync(descriptor);
    if (!info.isFile()) throw new Error(`${file}: not a plain file`);
    if (info.size > MAX_FILE_BYTES) throw new Error(`${file}: ${info.size} bytes, more than a views file may hold (${MAX_FILE_BYTES})`);
    bytes = Buffer.alloc(info.size);
    let read = 0;
    while (read < bytes.length) {
      const count = readSync(descriptor, bytes, read, bytes.length - read, read);
      if (count === 0) break;
      read += count;
    }
    bytes = bytes.subarray(0, read);
  } finally {
    closeSync(descriptor);
  }
  return parseViewFile(file, bytes);
}

/** readViewFile without blocking: for the extension host. */
async function readViewFileAsync(file: string): Promise<ParsedFile | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOFOLLOW ?? 0));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`${file}: cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, { cause: error });
  }
  let bytes: Buffer;
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new Error(`${file}: not a plain file`);
    if (info.size > MAX_FILE_BYTES) throw new Error(`${file}: ${info.size} bytes, more than a views file may hold (${MAX_FILE_BYTES})`);
    bytes = Buffer.alloc(info.size);
    let read = 0;
    while (read < bytes.length) {
      const { bytesRead } = await handle.read(bytes, read, bytes.length - read, read);
      if (bytesRead === 0) break;
      read += bytesRead;
    }
    bytes = bytes.subarray(0, read);
  } finally {
    await handle.close();
  }
  return parseViewFile(file, bytes);
}

function parseViewFile(file: string, bytes: Buffer): ParsedFile {
  const fail = (reason: string): never => {
    throw new Error(`${file}: ${reason}`);
  };
  if (bytes.length < PREAMBLE_BYTES || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) fail('not a views file (it does not start with AEXPVIEW)');
  const headerLength = bytes.readUInt32LE(MAGIC.length);
  if (headerLength > MAX_HEADER_BYTES || PREAMBLE_BYTES + headerLength > bytes.length) fail(`its header length ${headerLength} does not fit the file`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(bytes.subarray(PREAMBLE_BYTES, PREAMBLE_BYTES + headerLength).toString('utf8')) as Record<string, unknown>;
  } catch (error) {
    return fail(`its header is not JSON (${(error as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('its header is not an object');
  if (header.version !== VIEW_FORMAT_VERSION) fail(`format version ${JSON.stringify(header.version)}; this version reads ${VIEW_FORMAT_VERSION}`);
  if (!Array.isArray(header.sections)) fail('its header has no sections');
  const sections = new Map<string, Section>();
  let offset = PREAMBLE_BYTES + headerLength;
  for (const [index, described] of (header.sections as unknown[]).entries()) {
    const { name, type, shape } = (described ?? {}) as Partial<SectionHeader>;
    if (typeof name !== 'string' || (type !== 'uint8' && type !== 'float32') || !Array.isArray(shape) || !shape.every((size) => Number.isSafeInteger(size) && size >= 0)) fail(`section ${index} is not {name, type: uint8|float32, shape}`);
    const elements = shape!.reduce((product, size) => product * size, 1);
    const length = elements * (type === 'float32' ? 4 : 1);
    if (offset + length > bytes.length) fail(`section ${name} (${length} bytes) runs past the end of the file`);
    const slice = bytes.subarray(offset, offset + length);
    // A copy: the result owns aligned memory, whatever the file's buffer.
    const values = type === 'uint8' ? new Uint8Array(slice) : new Float32Array(new Uint8Array(slice).buffer);
    sections.set(name!, { name: name!, type: type!, shape: shape!, values });
    offset += length + padding(length);
  }
  if (offset !== bytes.length) fail(`${bytes.length - offset} bytes after its sections (the header describes ${offset})`);
  return { header, sections };
}

function section(file: string, parsed: ParsedFile, name: string, type: SectionType, shape: number[] | undefined): Section {
  const found = parsed.sections.get(name);
  if (!found) throw new Error(`${file}: no ${name} section`);
  if (found.type !== type) throw new Error(`${file}: section ${name} is ${found.type}, expected ${type}`);
  if (shape && found.shape.join() !== shape.join()) throw new Error(`${file}: section ${name} has shape [${found.shape}], expected [${shape}]`);
  return found;
}

function optionalSection(file: string, parsed: ParsedFile, name: string, type: SectionType, shape: number[] | undefined): Section | undefined {
  return parsed.sections.has(name) ? section(file, parsed, name, type, shape) : undefined;
}

/**
 * The views history of a run folder: the fixed inputs and every epoch written, oldest first, or
 * `undefined` for a folder without one (written before this format, or before its first epoch
 * ended). A damaged file is one error naming it.
 */
export function readViewHistory(runDir: string): ViewHistory | undefined {
  if (!checkViewsFolderSync(runDir)) return undefined;
  const inputsFile = viewInputsFile(runDir);
  const parsedInputs = readViewFile(inputsFile);
  if (!parsedInputs) return undefined;
  const history = historyFromInputs(inputsFile, parsedInputs);
  for (const epoch of epochNumbers(runDir)) {
    const file = viewEpochFile(runDir, epoch);
    const parsed = readViewFile(file);
    if (parsed) history.epochs.push(epochView(file, epoch, parsed, history));
  }
  return history;
}

/** readViewHistory without blocking: for the extension host. */
export async function readViewHistoryAsync(runDir: string): Promise<ViewHistory | undefined> {
  const inputs = await readViewInputsAsync(runDir);
  if (!inputs) return undefined;
  const history: ViewHistory = { version: VIEW_FORMAT_VERSION, ...inputs, epochs: [] };
  for (const epoch of await viewEpochsAsync(runDir)) {
    const view = await readViewEpochAsync(runDir, epoch, inputs);
    if (view) history.epochs.push(view);
  }
  return history;
}

/**
 * `false` when the run folder has no views/ (written before this format); throws, naming it, when
 * views/ is a symbolic link or not a folder: each file in it is opened without following a link,
 * so with views/ itself a real folder, nothing read lies outside the run folder.
 */
function checkViewsFolder(runDir: string, info: Stats | NodeJS.ErrnoException): boolean {
  const folder = viewsFolder(runDir);
  if (info instanceof Error) {
    if (info.code === 'ENOENT') return false;
    throw new Error(`${folder}: cannot be read (${info.code ?? info.message})`, { cause: info });
  }
  if (info.isSymbolicLink()) throw new Error(`${folder}: a symbolic link; views are read only from a folder inside the run folder`);
  if (!info.isDirectory()) throw new Error(`${folder}: not a folder`);
  return true;
}

function checkViewsFolderSync(runDir: string): boolean {
  let info: Stats | NodeJS.ErrnoException;
  try {
    info = lstatSync(viewsFolder(runDir));
  } catch (error) {
    info = error as NodeJS.ErrnoException;
  }
  return checkViewsFolder(runDir, info);
}

async function checkViewsFolderAsync(runDir: string): Promise<boolean> {
  return checkViewsFolder(runDir, await lstat(viewsFolder(runDir)).catch((error: NodeJS.ErrnoException) => error));
}

/** The fixed examples of the train cell's history (views/inputs.bin), or `undefined` for a run folder without them. Never blocks. */
export async function readViewInputsAsync(runDir: string): Promise<ViewInputs | undefined> {
  if (!(await checkViewsFolderAsync(runDir))) return undefined;
  const file = viewInputsFile(runDir);
  const parsed = await readViewFileAsync(file);
  if (!parsed) return undefined;
  const { version: _version, epochs: _epochs, ...inputs } = historyFromInputs(file, parsed, 'inputs');
  return inputs;
}

/**
 * The epochs whose views file exists, ascending: every entry named as one, whatever it is (a link
 * or a FIFO under that name is refused, naming it, when its epoch is read, not passed over).
 */
export async function viewEpochsAsync(runDir: string): Promise<number[]> {
  if (!(await checkViewsFolderAsync(runDir))) return [];
  const names = await readdir(viewsFolder(runDir)).catch(() => []);
  return names.filter((name) => EPOCH_FILE.test(name)).map((name) => Number(EPOCH_FILE.exec(name)![1])).sort((a, b) => a - b);
}

/** One epoch's views file, checked against its inputs' count and shape; `undefined` when it does not exist. Never blocks. */
export async function readViewEpochAsync(runDir: string, epoch: number, inputs: Pick<ViewInputs, 'examples' | 'shape'>): Promise<ViewEpoch | undefined> {
  if (!(await checkViewsFolderAsync(runDir))) return undefined;
  const file = viewEpochFile(runDir, epoch);
  const parsed = await readViewFileAsync(file);
  return parsed ? epochView(file, epoch, parsed, inputs) : undefined;
}

/** The reconstruct cell's views/reconstruct.bin, or `undefined` when there is none. Never blocks. */
export async function readReconstructViewAsync(runDir: string): Promise<ReconstructView | undefined> {
  if (!(await checkViewsFolderAsync(runDir))) return undefined;
  const file = viewCellFile(runDir, 'reconstruct');
  const parsed = await readViewFileAsync(file);
  if (!parsed) return undefined;
  const { version: _version, epochs: _epochs, ...inputs } = historyFromInputs(file, parsed, 'reconstruct');
  const epoch = parsed.header.epoch;
  if (!Number.isSafeInteger(epoch) || (epoch as number) < 0) throw new Error(`${file}: epoch ${JSON.stringify(epoch)} is not a whole number`);
  return { inputs, view: epochView(file, epoch as number, parsed, inputs, 'reconstruct') };
}

/** The sample cell's views/sample.bin, or `undefined` when there is none. Never blocks. */
export async function readSampleViewAsync(runDir: string): Promise<SampleView | undefined> {
  if (!(await checkViewsFolderAsync(runDir))) return undefined;
  const file = viewCellFile(runDir, 'sample');
  const parsed = await readViewFileAsync(file);
  if (!parsed) return undefined;
  const { header } = parsed;
  if (header.kind !== 'sample') throw new Error(`${file}: kind ${JSON.stringify(header.kind)}, expected "sample"`);
  if (typeof header.modelKind !== 'string') throw new Error(`${file}: modelKind is not a string`);
  if (header.units !== 'nats' && header.units !== 'loss') throw new Error(`${file}: units ${JSON.stringify(header.units)}, expected "nats" or "loss"`);
  if (!Number.isSafeInteger(header.epoch) || (header.epoch as number) < 0) throw new Error(`${file}: epoch ${JSON.stringify(header.epoch)} is not a whole number`);
  if (!Number.isSafeInteger(header.sampleColumns) || (header.sampleColumns as number) < 1) throw new Error(`${file}: sampleColumns ${JSON.stringify(header.sampleColumns)} is not a positive whole number`);
  const samples = section(file, parsed, 'samples', 'uint8', undefined);
  if (samples.shape.length !== 4) throw new Error(`${file}: section samples has shape [${samples.shape}], expected [m, height, width, channels]`);
  const [, height, width, channels] = samples.shape;
  return { modelKind: header.modelKind, units: header.units, shape: [height, width, channels], epoch: header.epoch as number, samples: samples.values as Uint8Array, sampleColumns: header.sampleColumns as number };
}

function epochNumbers(runDir: string): number[] {
  return epochFileNames(runDir).map((name) => Number(EPOCH_FILE.exec(name)![1])).sort((a, b) => a - b);
}

function historyFromInputs(inputsFile: string, parsedInputs: ParsedFile, kind: 'inputs' | 'reconstruct' = 'inputs'): ViewHistory {
  const { header } = parsedInputs;
  if (header.kind !== kind) throw new Error(`${inputsFile}: kind ${JSON.stringify(header.kind)}, expected ${JSON.stringify(kind)}`);
  const inputs = section(inputsFile, parsedInputs, 'inputs', 'uint8', undefined);
  if (inputs.shape.length !== 4) throw new Error(`${inputsFile}: section inputs has shape [${inputs.shape}], expected [n, height, width, channels]`);
  const [count, height, width, channels] = inputs.shape;
  const examples = header.examples;
  if (!Array.isArray(examples) || examples.length !== count || !examples.every((index) => Number.isSafeInteger(index) && index >= 0)) throw new Error(`${inputsFile}: examples is not a list of ${count} test indices`);
  if (typeof header.modelKind !== 'string') throw new Error(`${inputsFile}: modelKind is not a string`);
  if (header.units !== 'nats' && header.units !== 'loss') throw new Error(`${inputsFile}: units ${JSON.stringify(header.units)}, expected "nats" or "loss"`);
  const history: ViewHistory = {
    version: VIEW_FORMAT_VERSION,
    modelKind: header.modelKind,
    units: header.units,
    examples: examples as number[],
    shape: [height, width, channels],
    inputs: inputs.values as Uint8Array,
    epochs: [],
  };
  const corrupted = optionalSection(inputsFile, parsedInputs, 'corrupted', 'uint8', inputs.shape);
  if (corrupted) history.corrupted = corrupted.values as Uint8Array;
  const mask = optionalSection(inputsFile, parsedInputs, 'mask', 'uint8', [count, height, width, 1]);
  if (mask) history.mask = mask.values as Uint8Array;
  return history;
}

function epochView(file: string, epoch: number, parsed: ParsedFile, history: Pick<ViewInputs, 'examples' | 'shape'>, kind: 'epoch' | 'reconstruct' = 'epoch'): ViewEpoch {
  const count = history.examples.length;
  const [height, width, channels] = history.shape;
  if (parsed.header.kind !== kind || parsed.header.epoch !== epoch) throw new Error(`${file}: its header says ${JSON.stringify({ kind: parsed.header.kind, epoch: parsed.header.epoch })}, expected ${kind} ${epoch}`);
  const view: ViewEpoch = {
    epoch,
    reconstructions: section(file, parsed, 'reconstructions', 'uint8', [count, height, width, channels]).values as Uint8Array,
    loss: section(file, parsed, 'loss', 'float32', [count]).values as Float32Array,
    reconstruction: section(file, parsed, 'reconstruction', 'float32', [count]).values as Float32Array,
  };
  const kl = optionalSection(file, parsed, 'kl', 'float32', [count]);
  if (kl) view.kl = kl.values as Float32Array;
  const samples = optionalSection(file, parsed, 'samples', 'uint8', undefined);
  if (samples) {
    if (samples.shape.length !== 4 || samples.shape.slice(1).join() !== [height, width, channels].join()) throw new Error(`${file}: section samples has shape [${samples.shape}], expected [m, ${height}, ${width}, ${channels}]`);
    view.samples = samples.values as Uint8Array;
    if (typeof parsed.header.sampleColumns === 'number') view.sampleColumns = parsed.header.sampleColumns;
  }
  return view;
}
