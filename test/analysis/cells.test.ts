/**
 * The interpolate, traverse and explore cells: PCA against numpy (constants from
 * scripts/reference/pca.py), interpolation endpoints against the endpoints' own decodings,
 * traversal rows in the order of a float64 per-dimension KL, U-Net models answered with a reason,
 * the cells' checks at file:line:column, and a sprites run whose run folder holds every output.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { PNG } from 'pngjs';
import { completions, hover } from '../../extension/schemaHelp';
import { explore, writeExploration } from '../../runtime/analysis/explore';
import { interpolationStrips } from '../../runtime/analysis/interpolate';
import { decodeLatents, encodeSplit } from '../../runtime/analysis/latent-codes';
import { principalComponents, project, symmetricEigen } from '../../runtime/analysis/pca';
import { INACTIVE_KL_NATS, traversalGrid } from '../../runtime/analysis/traverse';
import { selectBackend } from '../../runtime/backends/select';
import type { Dataset } from '../../runtime/data/dataset';
import { runExperiment } from '../../runtime/engine';
import { readMatrixFile } from '../../runtime/format/matrix-file';
import type { LayerSpec } from '../../runtime/format/layers';
import { parseLayer } from '../../runtime/format/layers';
import type { CellConfigs, DataConfig, ModelConfig } from '../../runtime/format/schema';
import { formatDiagnostic, loadExperiment, withDefaults } from '../../runtime/format/validate';
import type { Autoencoder } from '../../runtime/model/build';
import { buildAutoencoder, disposeAutoencoder } from '../../runtime/model/build';
import type { EngineEvent, ImageEvent } from '../../runtime/protocol';
import { runFile } from '../../runtime/run-folder';
import { runLatentCells } from '../../runtime/run/analysis-cells';
import { ExperimentError } from '../../runtime/run/check';
import { Random } from '../../runtime/util/random';
import { temporaryDirectory } from '../helpers/temp';

function point(row: number, column: number): number {
  return (((row * (column + 3) * 7 + column * column * 5) % 13) - 6) + 2 * (((row * 5) % 9) - 4) * (column % 3);
}

function close(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} vs ${expected}`);
}

test('PCA of fixed points matches numpy\'s eigh (scripts/reference/pca.py): variances, shares, signed components, projections', () => {
  const rows = 40;
  const columns = 5;
  const points = Float64Array.from({ length: rows * columns }, (_, index) => point(Math.floor(index / columns), index % columns));
  const pca = principalComponents(points, rows, columns, 2);
  const variances = [184.85110861586023, 19.123773882704498];
  const explained = [0.790988766896603, 0.08183175332383169];
  const components = [
    [0.06380366801807724, 0.4297941131231382, 0.784033160934768, 0.014540763902974535, 0.4430425273175114],
    [0.7485923483974808, -0.024726515529474136, -0.1464397795973861, -0.6158869686970221, 0.19554213891429603],
  ];
  const projection = [[-20.794777348847155, -4.308451313039617], [6.322184765790562, 1.1037146864232148], [-6.893675888365732, -5.464433939353964]];
  for (let component = 0; component < 2; component++) {
    close(pca.variances[component], variances[component], 1e-9, `variance ${component}`);
    close(pca.explained[component], explained[component], 1e-12, `explained ${component}`);
    for (let column = 0; column < columns; column++) close(pca.components[component * columns + column], components[component][column], 1e-10, `component ${component}, loading ${column}`);
  }
  const projected = project(points, rows, pca);
  for (let row = 0; row < 3; row++) for (let component = 0; component < 2; component++) close(projected[row * 2 + component], projection[row][component], 1e-4, `row ${row} along ${component}`);
});

test('Jacobi eigenvectors rebuild their matrix (V Λ Vᵀ = A) and are orthonormal', () => {
  const size = 6;
  const random = new Random(3);
  const base = Float64Array.from({ length: size * size }, () => random.next() - 0.5);
  const matrix = new Float64Array(size * size);
  for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) for (let k = 0; k < size; k++) matrix[i * size + j] += base[i * size + k] * base[j * size + k];
  const { values, vectors } = symmetricEigen(matrix, size);
  for (let i = 0; i < size; i++) {
    for (let j = 0; j < size; j++) {
      let rebuilt = 0;
      let dot = 0;
      for (let k = 0; k < size; k++) {
        rebuilt += vectors[i * size + k] * values[k] * vectors[j * size + k];
        dot += vectors[k * size + i] * vectors[k * size + j];
      }
      close(rebuilt, matrix[i * size + j], 1e-12, `A[${i}][${j}]`);
      close(dot, i === j ? 1 : 0, 1e-12, `vᵢ·vⱼ for ${i}, ${j}`);
    }
  }
});

const SHAPE: [number, number, number] = [8, 8, 1];

function pixelDataset(count: number, seed: number, classes = 3): Dataset {
  const random = new Random(seed);
  const images = Uint8Array.from({ length: count * 64 }, () => Math.floor(random.next() * 256));
  const labels = Uint8Array.from({ length: count }, (_, index) => index % classes);
  const split = { images, labels, count };
  return { name: 'fixed', shape: SHAPE, classes: Array.from({ length: classes }, (_, index) => `class-${index}`), train: split, test: split, description: 'fixed pixels' };
}

const DATA = withDefaults('data', { dataset: 'mnist' } as Partial<DataConfig>);

function model(kind: ModelConfig['kind'], options: { latent?: number; encoder?: string[]; skips?: boolean } = {}): Autoencoder {
  const encoder = options.encoder ?? ['dense 16 tanh'];
  const config = withDefaults('model', { kind, latent: options.latent ?? 3, encoder, ...(options.skips ? { skips: true } : {}) } as Partial<ModelConfig>);
  return buildAutoencoder(config, { encoder: encoder.map((text) => parseLayer(text) as LayerSpec), decoder: 'mirror' }, SHAPE, 4, { classes: kind === 'cvae' ? 3 : 0 });
}

function assertImagesClose(actual: Float32Array, expected: Float32Array, what: string): void {
  assert.equal(actual.length, expected.length, what);
  let worst = 0;
  for (let index = 0; index < actual.length; index++) worst = Math.max(worst, Math.abs(actual[index] - expected[index]));
  assert.ok(worst < 1e-5, `${what}: largest difference ${worst}`);
}

for (const method of ['lerp', 'slerp'] as const) {
  test(`${method} strips begin and end at the decodings of the two test images' posterior means, between the images themselves`, async () => {
    await selectBackend('cpu');
    const dataset = pixelDataset(12, 5);
    const vae = model('vae');
    try {
      const steps = 5;
      const picture = await interpolationStrips(vae, dataset, DATA, withDefaults('interpolate', { pairs: [[3, 7], [0, 1]], method, steps } as Partial<CellConfigs['interpolate']>), 9);
      assert.ok(!('refusal' in picture));
      assert.equal(picture.columns, steps + 2);
      assert.deepEqual(picture.rows, ['test 3 (class-0) → test 7 (class-1)', 'test 0 (class-0) → test 1 (class-1)']);
      const encoded = await encodeSplit(vae, dataset, DATA, { split: 'test', seed: 9 });
      const mean = (index: number) => encoded.means.slice(index * 3, index * 3 + 3);
      const size = 64;
      const cell = (row: number, column: number) => picture.images.pixels.subarray((row * picture.columns + column) * size, (row * picture.columns + column + 1) * size);
      for (const [row, [from, to]] of [[3, 7], [0, 1]].entries()) {
        assertImagesClose(cell(row, 1), await decodeLatents(vae, mean(from), 1), `row ${row}: the first decoding`);
        assertImagesClose(cell(row, steps), await decodeLatents(vae, mean(to), 1), `row ${row}: the last decoding`);
        assertImagesClose(cell(row, 0), Float32Array.from(dataset.test.images.subarray(from * size, (from + 1) * size), (value) => value / 255), `row ${row}: the first test image`);
        assertImagesClose(cell(row, steps + 1), Float32Array.from(dataset.test.images.subarray(to * size, (to + 1) * size), (value) => value / 255), `row ${row}: the second test image`);
      }
    } finally {
      disposeAutoencoder(vae);
    }
  });
}

test('a cvae interpolates between class means, the condition blended: its ends are each class\'s mean code decoded as that class', async () => {
  await selectBackend('cpu');
  const dataset = pixelDataset(30, 6);
  const cvae = model('cvae');
  try {
    const picture = await interpolationStrips(cvae, dataset, DATA, withDefaults('interpolate', { pairs: 2, method: 'slerp', steps: 4 } as Partial<CellConfigs['interpolate']>), 2);
    assert.ok(!('refusal' in picture));
    assert.deepEqual(picture.rows, ['class 0 (class-0) → class 1 (class-1)', 'class 1 (class-1) → class 2 (class-2)']);
    const encoded = await encodeSplit(cvae, dataset, DATA, { split: 'test', seed: 2 });
    const classMean = (label: number) => {
      const sum = new Float64Array(3);
      let count = 0;
      for (let row = 0; row < encoded.count; row++) {
        if (encoded.labels[row] !== label) continue;
        count++;
        for (let dimension = 0; dimension < 3; dimension++) sum[dimension] += encoded.means[row * 3 + dimension];
      }
      return Float32Array.from(sum, (value) => value / count);
    };
    const cell = (row: number, column: number) => picture.images.pixels.subarray((row * 4 + column) * 64, (row * 4 + column + 1) * 64);
    assertImagesClose(cell(0, 0), await decodeLatents(cvae, classMean(0), 1, [0]), 'class 0\'s end');
    assertImagesClose(cell(0, 3), await decodeLatents(cvae, classMean(1), 1, [1]), 'class 1\'s end');
    assertImagesClose(cell(1, 3), await decodeLatents(cvae, classMean(2), 1, [2]), 'class 2\'s end');
  } finally {
    disposeAutoencoder(cvae);
  }
});

test('traversal rows follow the per-dimension KL (float64, from the encoder\'s outputs), and each row\'s middle is the centre\'s decoding', async () => {
  await selectBackend('cpu');
  const dataset = pixelDataset(40, 8);
  const vae = model('vae', { latent: 5 });
  try {
    const config = withDefaults('traverse', { from: 4, range: 2, steps: 5 } as Partial<CellConfigs['traverse']>);
    const picture = await traversalGrid(vae, dataset, DATA, config, 3);
    assert.ok(!('refusal' in picture));
    const encoded = await encodeSplit(vae, dataset, DATA, { split: 'test', seed: 3 });
    const kl = Array.from({ length: 5 }, (_, dimension) => {
      let sum = 0;
      for (let row = 0; row < encoded.count; row++) {
        const mu = encoded.means[row * 5 + dimension];
        const logVariance = encoded.logVariances![row * 5 + dimension];
        sum += 0.5 * (mu * mu + Math.exp(logVariance) - 1 - logVariance);
      }
      return sum / encoded.count;
    });
    const expectedOrder = [0, 1, 2, 3, 4].sort((a, b) => kl[b] - kl[a]);
    assert.deepEqual(picture.ranking!.order, expectedOrder);
    assert.deepEqual(picture.rows, expectedOrder.map((dimension) => `z${dimension}: KL ${kl[dimension].toFixed(3)} nats${kl[dimension] < INACTIVE_KL_NATS ? ' (inactive)' : ''}`));
    const centre = await decodeLatents(vae, encoded.means.slice(4 * 5, 5 * 5), 1);
    for (let row = 0; row < 5; row++) assertImagesClose(picture.images.pixels.subarray((row * 5 + 2) * 64, (row * 5 + 3) * 64), centre, `row ${row}: the middle`);
    const first = await decodeLatents(vae, (() => {
      const z = encoded.means.slice(4 * 5, 5 * 5);
      z[expectedOrder[0]] -= 2;
      return z;
    })(), 1);
    assertImagesClose(picture.images.pixels.subarray(0, 64), first, 'the first row starts 2 prior σ below the centre along its dimension');
  } finally {
    disposeAutoencoder(vae);
  }
});

test('a U-Net model (skips) answers the interpolate and traverse cells with the reason, as their output; explore still runs', async () => {
  await selectBackend('cpu');
  const directory = temporaryDirectory();
  const file = path.join(directory, 'unet.aexp');
  writeFileSync(file, '```data\ndataset: mnist\n```\n\n```model\nkind: ae\nlatent: 3\nencoder: [conv 4 k3 s2 relu, conv 8 k3 s2 relu]\nskips: true\n```\n\n```train\nepochs: 1\n```\n\n```interpolate\npairs: 1\n```\n\n```traverse\n```\n\n```explore\nlimit: 10\n```\n');
  const experiment = loadExperiment(readFileSync(file, 'utf8'), file);
  assert.deepEqual(experiment.diagnostics.map((diagnostic) => `${diagnostic.severity} ${diagnostic.start.line}`), ['warning 16', 'warning 20'], experiment.diagnostics.map(formatDiagnostic).join('\n'));
  const unet = model('ae', { encoder: ['conv 4 k3 s2 relu', 'conv 8 k3 s2 relu'], skips: true });
  assert.ok(unet.skipCount > 0);
  const events: EngineEvent[] = [];
  mkdirSync(runFile(directory, 'images'));
  try {
    await runLatentCells({ experiment, model: unet, dataset: pixelDataset(12, 1), data: DATA, folder: directory, seed: 1, epoch: 1, wanted: ['interpolate', 'traverse', 'explore'], emit: (event) => events.push(event) });
  } finally {
    disposeAutoencoder(unet);
  }
  for (const cell of ['interpolate', 'traverse'] as const) {
    const output = events.find((event) => event.type === 'cellOutput' && event.cell === cell);
    assert.match((output as { text: string }).text, /^not drawn: this ae has U-Net skips: its decoder needs the encoder's features/);
    assert.ok(events.some((event) => event.type === 'cell' && event.cell === cell && event.state === 'finished'));
    assert.ok(!events.some((event) => event.type === 'image' && event.cell === cell));
  }
  assert.ok(events.some((event) => event.type === 'image' && event.cell === 'explore'));
});

test('the cells\' mistakes are errors at their key: classes for a vae, no projection for a 4-d code, a test index past the split (before training)', async () => {
  const directory = temporaryDirectory();
  const header = '---\nseed: 2\n---\n```data\ndataset: sprites\nsize: 16\ncount: 200\nbatch: 50\n```\n\n```model\nkind: vae\nlatent: 4\nencoder: [dense 16 relu]\n```\n\n```train\nepochs: 1\n```\n\n';
  const invalid = loadExperiment(`${header}\`\`\`interpolate\nbetween: classes\n\`\`\`\n\n\`\`\`explore\nprojection: none\n\`\`\`\n`, 'bad.aexp');
  assert.deepEqual(invalid.diagnostics.map(formatDiagnostic), [
    'bad.aexp:22:1: error: `between: classes` interpolates between class means with the class condition, which only a `cvae` has (this model is a `vae`); use `between: images`',
    'bad.aexp:26:1: error: `projection: none` plots the code itself, which needs `latent: 2` (this model\'s code has 4 dimensions); use `pca` or `umap`',
  ]);
  const file = path.join(directory, 'past.aexp');
  writeFileSync(file, `${header}\`\`\`interpolate\npairs: [[0, 5], [19, 20]]\n\`\`\`\n\n\`\`\`traverse\nfrom: 300\n\`\`\`\n`);
  const events: EngineEvent[] = [];
  await assert.rejects(runExperiment({ file, outDir: path.join(directory, 'runs'), backend: 'cpu', onEvent: (event) => events.push(event) }), (error: unknown) => {
    assert.ok(error instanceof ExperimentError);
    assert.deepEqual(error.diagnostics.map(formatDiagnostic), [
      `${file}:22:22: error: test image 20 does not exist: the test split has 20 images (0–19)`,
      `${file}:26:1: error: test image 300 does not exist: the test split has 20 images (0–19)`,
    ]);
    return true;
  });
  assert.ok(!events.some((event) => event.type === 'progress'), 'refused before training');
  assert.ok(!existsSync(path.join(directory, 'runs')), 'no run folder');
});

test('the editor completes and documents the three cells from their schema', () => {
  assert.deepEqual(completions('traverse', '', 0, 0).map((item) => item.label), ['from', 'range', 'steps', 'dimensions']);
  assert.deepEqual(completions('traverse', 'from: ', 0, 6).map((item) => item.label), ['origin']);
  assert.deepEqual(completions('explore', 'projection: ', 0, 12).map((item) => `${item.label}${item.preferred ? ' (default)' : ''}`), ['pca (default)', 'umap', 'none']);
  assert.deepEqual(completions('interpolate', 'method: ', 0, 8).map((item) => item.label), ['lerp', 'slerp']);
  assert.match(hover('interpolate', 'pairs: 3\n', 0, 2)!.markdown, /\*\*pairs\*\* \(interpolate cell\): integer or list of list of integer/);
  assert.match(hover('traverse', 'range: 2\n', 0, 2)!.markdown, /±|−k to \+k standard deviations/);
});

test('umap on a seeded subsample: the same points every time, finite, one row per subsampled example, with progress', async () => {
  await selectBackend('cpu');
  const dataset = pixelDataset(60, 4);
  const vae = model('vae');
  try {
    const config = withDefaults('explore', { projection: 'umap', subsample: 40 } as Partial<CellConfigs['explore']>);
    const progress: string[] = [];
    const first = await explore(vae, dataset, DATA, config, 5, { onProgress: (message) => progress.push(message) });
    const second = await explore(vae, dataset, DATA, config, 5);
    assert.equal(first.encoded.count, 40);
    assert.equal(first.indices.length, 40);
    assert.ok(first.indices.every((index, row) => row === 0 || index > first.indices[row - 1]), 'the subsample keeps split order');
    assert.deepEqual(Array.from(first.encoded.labels), Array.from(first.indices, (index) => dataset.test.labels[index]));
    assert.equal(first.projection.length, 80);
    assert.ok(first.projection.every(Number.isFinite));
    assert.deepEqual(first.projection, second.projection);
    assert.ok(progress.some((line) => /^UMAP of 40 points: 100%/.test(line)), progress.join('\n'));
    const folder = temporaryDirectory();
    writeExploration(folder, first);
    assert.deepEqual(readMatrixFile(path.join(folder, 'points.csv')).names, ['index', 'label', 'x', 'y']);
  } finally {
    disposeAutoencoder(vae);
  }
});

test('a sprites run with the three cells: strips, a traversal grid, a scatter, and explore/ files that load back with their shapes and the PCA of the latents', async () => {
  const directory = temporaryDirectory();
  const file = path.join(directory, 'tour.aexp');
  writeFileSync(file, '---\nseed: 3\n---\n```data\ndataset: sprites\nsize: 16\ncount: 300\nbatch: 50\n```\n\n```model\nkind: vae\nlatent: 4\nencoder: [dense 32 relu]\n```\n\n```train\nepochs: 1\n```\n\n```interpolate\npairs: 2\nmethod: slerp\nsteps: 6\n```\n\n```traverse\ndimensions: 3\nsteps: 7\n```\n\n```explore\nsplit: all\nlimit: 250\n```\n');
  const events: EngineEvent[] = [];
  const result = await runExperiment({ file, outDir: path.join(directory, 'runs'), backend: 'cpu', onEvent: (event) => events.push(event) });
  assert.equal(result.status, 'completed');
  const images = events.filter((event): event is ImageEvent => event.type === 'image' && event.cell !== 'train');
  const byCell = new Map(images.map((image) => [image.cell, image]));
  const size = (image: ImageEvent | undefined) => {
    const png = PNG.sync.read(readFileSync(image!.path));
    return [png.width, png.height];
  };
  // 16-pixel sprites are drawn ×4 (64 px) with a 2-pixel gutter.
  assert.deepEqual(size(byCell.get('interpolate')), [8 * 66 + 2, 2 * 66 + 2]);
  assert.equal(byCell.get('interpolate')!.rows!.length, 2);
  assert.deepEqual(size(byCell.get('traverse')), [7 * 66 + 2, 3 * 66 + 2]);
  for (const row of byCell.get('traverse')!.rows!) assert.match(row, /^z\d: KL \d+\.\d{3} nats( \(inactive\))?$/);
  assert.equal(byCell.get('explore')!.kind, 'projection');
  assert.match(byCell.get('explore')!.rows![0], /^PCA of 250 posterior means \(train and test\): PC1 \(\d+\.\d% of the variance\) across, PC2/);
  assert.deepEqual(byCell.get('explore')!.rows!.slice(1), ['0 blue: square', '1 orange: ellipse', '2 green: heart']);
  const folder = runFile(result.runDir, 'explore');
  const latents = readMatrixFile(path.join(folder, 'latents.npy'));
  const projection = readMatrixFile(path.join(folder, 'projection.npy'));
  const labels = readMatrixFile(path.join(folder, 'labels.npy'));
  assert.deepEqual([latents.rows, latents.columns, projection.rows, projection.columns, labels.rows, labels.columns], [250, 4, 250, 2, 250, 1]);
  assert.ok(Array.from(labels.values).every((label) => Number.isInteger(label) && label >= 0 && label < 3));
  const expected = project(latents.values, 250, principalComponents(latents.values, 250, 4, 2));
  for (let index = 0; index < expected.length; index++) close(projection.values[index], expected[index], 1e-4, `projection value ${index}`);
  const points = readMatrixFile(path.join(folder, 'points.csv'));
  assert.deepEqual(points.names, ['index', 'label', 'x', 'y']);
  assert.deepEqual(Array.from(points.values.filter((_, index) => index % 4 === 1)), Array.from(labels.values));
  const recorded = JSON.parse(readFileSync(runFile(result.runDir, 'outputs'), 'utf8')) as { events: EngineEvent[] };
  for (const cell of ['interpolate', 'traverse', 'explore']) assert.ok(recorded.events.some((event) => event.type === 'image' && event.cell === cell), `${cell}'s picture is kept for reopening`);
});
