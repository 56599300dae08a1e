/**
 * Latent files other tools read: `.npy` checked byte by byte against the format's specification
 * and, where this machine has NumPy, by numpy.load itself; CSV with its header; bad files give one
 * line naming the file (and line and column).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { npyBytes, parseCsv, readMatrixFile, writeMatrixFile } from '../../runtime/format/matrix-file';
import { temporaryDirectory } from '../helpers/temp';

const matrix = { rows: 3, columns: 2, values: Float32Array.from([0.5, -1.25, 3, 1e-7, -0, 123456.789]) };

test('a .npy file has the magic, version 1.0, a 64-byte aligned header and little-endian float32 data in C order', () => {
  const bytes = npyBytes(matrix);
  assert.deepEqual([...bytes.subarray(0, 8)], [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  const headerLength = bytes.readUInt16LE(8);
  assert.equal((10 + headerLength) % 64, 0);
  const header = bytes.subarray(10, 10 + headerLength).toString('latin1');
  assert.match(header, /^\{'descr': '<f4', 'fortran_order': False, 'shape': \(3, 2\), \} *\n$/);
  assert.equal(bytes.length, 10 + headerLength + 6 * 4);
  for (let index = 0; index < 6; index++) assert.equal(bytes.readFloatLE(10 + headerLength + index * 4), matrix.values[index]);
});

test('numpy.load reads the .npy and pandas-style CSV round-trips (where this machine has NumPy)', (context) => {
  const folder = temporaryDirectory('matrix-');
  const npy = path.join(folder, 'z.npy');
  const csv = path.join(folder, 'z.csv');
  writeMatrixFile(npy, matrix);
  writeMatrixFile(csv, { ...matrix, names: ['z0', 'label,"x"'] });
  assert.equal(readFileSync(csv, 'utf8').split('\n')[0], 'z0,"label,""x"""');
  const python = ['/usr/bin/python3', 'python3'].find((candidate) => spawnSync(candidate, ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0);
  if (!python) {
    context.skip('no python3 with NumPy here: the byte layout test above covers the format');
    return;
  }
  const result = spawnSync(python, ['-c', 'import numpy, sys, json; a = numpy.load(sys.argv[1]); print(json.dumps({"dtype": str(a.dtype), "shape": list(a.shape), "values": a.astype(float).ravel().tolist()}))', npy], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  const loaded = JSON.parse(result.stdout) as { dtype: string; shape: number[]; values: number[] };
  assert.equal(loaded.dtype, 'float32');
  assert.deepEqual(loaded.shape, [3, 2]);
  assert.deepEqual(loaded.values, [...matrix.values]);
});

test('what is written reads back: .npy exactly, CSV to float32', () => {
  const folder = temporaryDirectory('matrix-');
  for (const name of ['z.npy', 'z.csv']) {
    writeMatrixFile(path.join(folder, name), matrix);
    const back = readMatrixFile(path.join(folder, name));
    assert.equal(back.rows, 3);
    assert.equal(back.columns, 2);
    assert.deepEqual([...back.values], [...matrix.values]);
  }
  assert.deepEqual(readMatrixFile(path.join(folder, 'z.csv')).names, ['z0', 'z1']);
});

test('a float64 .npy of one vector reads as one row; other layouts are refused by name', () => {
  const folder = temporaryDirectory('matrix-');
  const header = "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }";
  const padded = header + ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const preamble = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 0, 0]);
  preamble.writeUInt16LE(padded.length, 8);
  const data = Buffer.alloc(24);
  [0.25, -2, 7].forEach((value, index) => data.writeDoubleLE(value, index * 8));
  const file = path.join(folder, 'v.npy');
  writeFileSync(file, Buffer.concat([preamble, Buffer.from(padded, 'latin1'), data]));
  const vector = readMatrixFile(file);
  assert.deepEqual([vector.rows, vector.columns, ...vector.values], [1, 3, 0.25, -2, 7]);

  writeFileSync(file, Buffer.concat([preamble, Buffer.from(padded.replace('<f8', '<i8'), 'latin1'), data]));
  assert.throws(() => readMatrixFile(file), { message: `${file}: dtype <i8: expected float32 or float64` });
  writeFileSync(file, Buffer.concat([preamble, Buffer.from(padded, 'latin1'), data.subarray(0, 16)]));
  assert.throws(() => readMatrixFile(file), { message: `${file}: 16 data bytes for shape (3) of <f8` });
  writeFileSync(file, 'not numpy');
  assert.throws(() => readMatrixFile(file), /v\.npy: not a \.npy file/);
  assert.throws(() => readMatrixFile(path.join(folder, 'z.txt')), /z\.txt: the extension says neither \.npy nor \.csv/);
  assert.throws(() => readMatrixFile(path.join(folder, 'missing.npy')), /missing\.npy: cannot be read \(ENOENT\)/);
});

test('a CSV value that is not a number is named by file, line and column', () => {
  assert.throws(() => parseCsv('z.csv', 'z0,z1\n1,2\n3,abc\n'), { message: 'z.csv:3:3: "abc" (column 2) is not a number' });
  assert.throws(() => parseCsv('z.csv', 'z0,z1\n1,2,3\n'), { message: 'z.csv:2: 3 values, the first row has 2' });
  assert.throws(() => parseCsv('z.csv', 'z0,z1\n'), { message: 'z.csv: a header row and no values' });
  assert.deepEqual([...parseCsv('z.csv', '1,2\r\n3,4\r\n').values], [1, 2, 3, 4]);
});
