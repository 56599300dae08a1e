import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import '@tensorflow/tfjs-backend-cpu';
import { datasetClassCount, datasetShape } from '../../runtime/data/shapes';
import { estimateModelMemory } from '../../runtime/format/memory';
import { cellConfig, formatDiagnostic, loadExperiment } from '../../runtime/format/validate';
import { buildAutoencoder, disposeAutoencoder, parameterCount } from '../../runtime/model/build';
import { WASM_HEAP_BYTES, cgroupMemoryLimit, largestBufferBytes } from '../../runtime/resources';
import { temporaryDirectory } from '../helpers/temp';

const samplesDir = path.join(__dirname, '..', '..', 'samples');
const GB = 1e9;

function experiment(data: string, model: string, train = 'epochs: 1'): string {
  return `# sizes\n\n\`\`\`data\n${data}\n\`\`\`\n\n\`\`\`model\n${model}\n\`\`\`\n\n\`\`\`train\n${train}\n\`\`\`\n`;
}

/** The errors of a text checked against a machine with `availableBytes` of memory. */
function errors(text: string, options: { availableBytes: number; backend?: 'cpu' | 'wasm' | 'tensorflow' }): string[] {
  return loadExperiment(text, 'sizes.aexp', options).diagnostics.filter((diagnostic) => diagnostic.severity === 'error').map(formatDiagnostic);
}

test('the estimate counts the parameters the built model has, within 1%, for every sample', () => {
  for (const name of readdirSync(samplesDir).filter((file) => file.endsWith('.aexp'))) {
    const loaded = loadExperiment(readFileSync(path.join(samplesDir, name), 'utf8'), name);
    const data = cellConfig(loaded, 'data')!;
    const model = cellConfig(loaded, 'model')!;
    const shape = datasetShape(data)!;
    const estimate = estimateModelMemory(model, loaded.layers!, shape, { batch: data.batch, classes: datasetClassCount(data), train: cellConfig(loaded, 'train') });
    const built = buildAutoencoder(model, loaded.layers!, shape, 0, { classes: datasetClassCount(data) });
    const actual = parameterCount(built);
    disposeAutoencoder(built);
    assert.ok(Math.abs(estimate.parameters - actual) / actual < 0.01, `${name}: estimated ${estimate.parameters} parameters, the model has ${actual}`);
    // A sane configuration is far from any limit: no memory diagnostic even on a 2 GB machine.
    assert.deepEqual(errors(readFileSync(path.join(samplesDir, name), 'utf8'), { availableBytes: 2 * GB }), [], name);
  }
});

test('absurd sizes give one located error with the estimate and the limit, before anything is built', () => {
  const limit = { availableBytes: 8 * GB };
  const cases: { text: string; at: string; says: RegExp }[] = [
    {
      text: experiment('dataset: mnist', 'kind: vae\nlatent: 1000000000\nencoder: [dense 400 relu]'),
      at: 'sizes.aexp:9:1',
      says: /: the model needs about 21280\.0 GB \(weights, Adam state, gradients and one batch of activations; most of it for the 1000000000-d code\); this process can use at most 8\.0 GB$/,
    },
    {
      text: experiment('dataset: mnist', 'kind: ae\nlatent: 20\nencoder: [dense 400 relu, dense 100000000 relu]'),
      at: 'sizes.aexp:10:27',
      says: /: the model needs about \d+\.\d GB \(.*most of it for `dense 100000000 relu`\); this process can use at most 8\.0 GB$/,
    },
    {
      text: experiment('dataset: sprites\ncount: 100000000', 'kind: vae\nlatent: 4\nencoder: [dense 64 relu]'),
      at: 'sizes.aexp:5:1',
      says: /: 100,000,000 sprites of 32×32 need about 204\.8 GB in memory \(one byte per pixel, held twice while the train and test splits are made\); this process can use at most 8\.0 GB$/,
    },
    {
      text: experiment('dataset: sprites\ncount: 1000\nsize: 100000', 'kind: vae\nlatent: 4\nencoder: [dense 64 relu]'),
      at: 'sizes.aexp:6:1',
      says: /: 1,000 sprites of 100000×100000 need about 20000\.0 GB in memory .*; this process can use at most 8\.0 GB$/,
    },
    {
      text: experiment('dataset: folder\npath: photos\nsize: [100000, 100000]\nchannels: 3', 'kind: ae\nlatent: 4\nencoder: [dense 64 relu]'),
      at: 'sizes.aexp:6:1',
      says: /: two images of 100000×100000×3 \(the fewest a folder dataset holds\) need about 120\.0 GB in memory .*; this process can use at most 8\.0 GB$/,
    },
  ];
  for (const { text, at, says } of cases) {
    const found = errors(text, limit);
    assert.equal(found.length, 1, found.join('\n'));
    assert.ok(found[0].startsWith(`${at}: error: `), found[0]);
    assert.match(found[0], says);
  }
});

test('the backend bounds one tensor and, for wasm, the whole model', () => {
  // 784 inputs × 3,000,000 units is one weight array of 2.35e9 floats: past the 2^31 − 1 a CPU-side kernel indexes.
  const wide = experiment('dataset: mnist', 'kind: ae\nlatent: 20\nencoder: [dense 3000000 relu]');
  const petabyte = { availableBytes: 1e15 };
  assert.deepEqual(errors(wide, { ...petabyte, backend: 'cpu' }), ['sizes.aexp:10:11: error: the weights of `dense 3000000 relu` would be one tensor of 9.4 GB; the largest the cpu backend can hold is 8.6 GB']);
  assert.deepEqual(errors(wide, { ...petabyte, backend: 'tensorflow' }), []);
  const [wasm] = errors(experiment('dataset: mnist', 'kind: ae\nlatent: 20\nencoder: [dense 200000 relu]'), { ...petabyte, backend: 'wasm' });
  assert.match(wasm, /^sizes\.aexp:10:11: error: the model needs about 5\.\d GB .*; the wasm backend holds at most 4\.3 GB$/);
  assert.equal(largestBufferBytes('cpu'), (2 ** 31 - 1) * 4);
  assert.equal(largestBufferBytes('native'), (2 ** 31 - 1) * 4);
  assert.equal(largestBufferBytes('wasm'), WASM_HEAP_BYTES);
  assert.equal(largestBufferBytes('tensorflow'), undefined);
});

test('the model and the data together must fit: the model is named beside the data it needs', () => {
  // 1.2 GB of sprites (held twice) and a model of about 2.2 GB: each fits in 3 GB, both do not.
  const text = experiment('dataset: sprites\ncount: 600000', 'kind: ae\nlatent: 20\nencoder: [dense 60000 relu]');
  const found = errors(text, { availableBytes: 3 * GB });
  assert.equal(found.length, 1, found.join('\n'));
  assert.match(found[0], /^sizes\.aexp:11:11: error: the model needs about 2\.\d GB .* beside 1\.2 GB of data; this process can use at most 3\.0 GB$/);
});

test('cgroup limits (v2 and v1, ancestors included) bound the memory; "max" and v1\'s huge value mean none', () => {
  const root = temporaryDirectory();
  const write = (file: string, text: string) => {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
  };
  write('proc-v2', '0::/user.slice/session\n');
  write('sys/user.slice/memory.max', '1073741824\n');
  write('sys/user.slice/session/memory.max', 'max\n');
  assert.equal(cgroupMemoryLimit(path.join(root, 'proc-v2'), path.join(root, 'sys')), 1073741824);
  write('proc-v1', '4:memory:/docker/abc\n3:cpu:/docker/abc\n');
  write('sys1/memory/docker/abc/memory.limit_in_bytes', '9223372036854771712\n');
  write('sys1/memory/docker/memory.limit_in_bytes', '2147483648\n');
  assert.equal(cgroupMemoryLimit(path.join(root, 'proc-v1'), path.join(root, 'sys1')), 2147483648);
  assert.equal(cgroupMemoryLimit(path.join(root, 'absent'), path.join(root, 'none')), undefined);
});
