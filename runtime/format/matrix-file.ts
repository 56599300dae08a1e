/**
 * Matrices of numbers (latent codes, projections) in files other tools read: NumPy's `.npy`
 * (version 1.0, little-endian float32, C order; `numpy.load` reads it) and CSV with a header row
 * (`pandas.read_csv` reads it). Written atomically; read back with checks that name the file and
 * what is wrong, since `aexp decode --z` reads a file a person wrote.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../util/atomic-file';

export interface Matrix {
  rows: number;
  columns: number;
  /** Row-major, rows × columns. */
  values: Float32Array;
  /** CSV only: the header's names, one per column. */
  names?: string[];
}

const NPY_MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);
/** A file a person hands to `decode` is small; anything near this is a mistake, not latents. */
const MAX_READ_BYTES = 512 * 1024 * 1024;

export class MatrixFileError extends Error {
  override name = 'MatrixFileError';
}

/** `.npy` bytes of a float32 matrix: magic, version 1.0, a header padded so the data starts on a 64-byte boundary. */
export function npyBytes(matrix: Matrix): Buffer {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${matrix.rows}, ${matrix.columns}), }`;
  const unpadded = NPY_MAGIC.length + 2 + 2 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const preamble = Buffer.alloc(NPY_MAGIC.length + 4);
  NPY_MAGIC.copy(preamble);
  preamble[6] = 1;
  preamble[7] = 0;
  preamble.writeUInt16LE(header.length, 8);
  const data = Buffer.alloc(matrix.values.length * 4);
  for (let index = 0; index < matrix.values.length; index++) data.writeFloatLE(matrix.values[index], index * 4);
  return Buffer.concat([preamble, Buffer.from(header, 'latin1'), data]);
}

/** CSV text: the header row, then one row per matrix row; each number is the float32 value exactly, as its shortest decimal double (so it reads back to the same float32; -0 stays -0). */
export function csvText(matrix: Matrix): string {
  const names = matrix.names ?? Array.from({ length: matrix.columns }, (_, index) => `z${index}`);
  if (names.length !== matrix.columns) throw new Error(`${names.length} column names for ${matrix.columns} columns`);
  const lines = [names.map(csvField).join(',')];
  for (let row = 0; row < matrix.rows; row++) {
    const cells: string[] = [];
    for (let column = 0; column < matrix.columns; column++) {
      const value = matrix.values[row * matrix.columns + column];
      cells.push(Object.is(value, -0) ? '-0' : String(value));
    }
    lines.push(cells.join(','));
  }
  return `${lines.join('\n')}\n`;
}

function csvField(name: string): string {
  return /[",\n\r]/.test(name) ? `"${name.replace(/"/g, '""')}"` : name;
}

/** Writes `.npy` or `.csv`, chosen by the file's extension. */
export function writeMatrixFile(file: string, matrix: Matrix): void {
  if (matrix.values.length !== matrix.rows * matrix.columns) throw new Error(`a ${matrix.rows}×${matrix.columns} matrix cannot hold ${matrix.values.length} values`);
  const extension = path.extname(file).toLowerCase();
  if (extension === '.npy') writeFileAtomic(file, [npyBytes(matrix)]);
  else if (extension === '.csv') writeFileAtomic(file, [Buffer.from(csvText(matrix))]);
  else throw new MatrixFileError(`${file}: the extension says neither .npy nor .csv`);
}

/** Reads a 2-D (or 1-D: one row) float `.npy`, or a CSV of numbers with or without a header row. */
export function readMatrixFile(file: string): Matrix {
  const extension = path.extname(file).toLowerCase();
  if (extension !== '.npy' && extension !== '.csv') throw new MatrixFileError(`${file}: the extension says neither .npy nor .csv`);
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw new MatrixFileError(`${file}: cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  if (bytes.length > MAX_READ_BYTES) throw new MatrixFileError(`${file}: ${bytes.length} bytes, more than a latents file may hold here (${MAX_READ_BYTES})`);
  return extension === '.npy' ? parseNpy(file, bytes) : parseCsv(file, bytes.toString('utf8'));
}

export function parseNpy(file: string, bytes: Buffer): Matrix {
  const fail = (reason: string): never => {
    throw new MatrixFileError(`${file}: ${reason}`);
  };
  if (bytes.length < 10 || !bytes.subarray(0, 6).equals(NPY_MAGIC)) fail('not a .npy file (it does not start with \\x93NUMPY)');
  const major = bytes[6];
  if (major < 1 || major > 3) fail(`.npy format version ${major}.${bytes[7]}; this reads 1.0 to 3.0`);
  const headerLength = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  if (start + headerLength > bytes.length) fail('its header runs past the end of the file');
  const header = bytes.subarray(start, start + headerLength).toString('latin1');
  const descr = /'descr':\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) fail('its header lacks descr, fortran_order or shape');
  if (fortran === 'True') fail('Fortran order; save it with numpy.ascontiguousarray first');
  const shape = shapeText!.split(',').map((part) => part.trim()).filter((part) => part.length > 0).map(Number);
  if (!shape.every((size) => Number.isSafeInteger(size) && size >= 0) || shape.length < 1 || shape.length > 2) fail(`shape (${shapeText}): expected (n, d) or (d,)`);
  const [rows, columns] = shape.length === 1 ? [1, shape[0]] : shape;
  const readers: Record<string, [number, (offset: number) => number]> = {
    '<f4': [4, (offset) => bytes.readFloatLE(offset)],
    '<f8': [8, (offset) => bytes.readDoubleLE(offset)],
    '>f4': [4, (offset) => bytes.readFloatBE(offset)],
    '>f8': [8, (offset) => bytes.readDoubleBE(offset)],
  };
  const reader = readers[descr!] ?? fail(`dtype ${descr}: expected float32 or float64`);
  const [width, read] = reader;
  const dataStart = start + headerLength;
  if (bytes.length - dataStart !== rows * columns * width) fail(`${bytes.length - dataStart} data bytes for shape (${shape.join(', ')}) of ${descr}`);
  const values = new Float32Array(rows * columns);
  for (let index = 0; index < values.length; index++) values[index] = read(dataStart + index * width);
  return { rows, columns, values };
}

export function parseCsv(file: string, text: string): Matrix {
  const lines = text.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1].trim() === '') lines.pop();
  if (lines.length === 0) throw new MatrixFileError(`${file}: empty`);
  const first = lines[0].split(',').map((cell) => cell.trim());
  const header = first.some((cell) => cell === '' || !Number.isFinite(Number(cell)));
  const names = header ? first.map((cell) => cell.replace(/^"(.*)"$/, '$1')) : undefined;
  const body = header ? lines.slice(1) : lines;
  const columns = first.length;
  const values = new Float32Array(body.length * columns);
  body.forEach((line, row) => {
    const cells = line.split(',');
    const lineNumber = row + (header ? 2 : 1);
    if (cells.length !== columns) throw new MatrixFileError(`${file}:${lineNumber}: ${cells.length} values, the first row has ${columns}`);
    let character = 1;
    cells.forEach((cell, column) => {
      const value = Number(cell.trim());
      if (cell.trim() === '' || !Number.isFinite(value)) throw new MatrixFileError(`${file}:${lineNumber}:${character}: "${cell.trim().slice(0, 40)}" (column ${column + 1}) is not a number`);
      values[row * columns + column] = value;
      character += cell.length + 1;
    });
  });
  if (body.length === 0) throw new MatrixFileError(`${file}: a header row and no values`);
  return { rows: body.length, columns, values, ...(names ? { names } : {}) };
}
