/**
 * The gradient check that gates every non-cpu backend. To prove it catches a silent kernel bug, a
 * test installs a deliberately wrong wasm kernel (a stand-in for the WebGPU matmul bug, which needs
 * a GPU driver to reproduce) and restores the real one afterwards.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { loadAddon } from '../../runtime/backends/native/addon';
import { selectBackend } from '../../runtime/backends/select';
import { verifyBackend } from '../../runtime/backends/check';
import { BackendError } from '../../runtime/backends/select';
import { runExperiment } from '../../runtime/engine';
import type { LayerSpec } from '../../runtime/format/layers';
import { parseLayer } from '../../runtime/format/layers';
import { withDefaults } from '../../runtime/format/validate';
import { buildAutoencoder } from '../../runtime/model/build';
import { tinyExperiment } from '../helpers/experiments';
import { temporaryDirectory } from '../helpers/temp';

const config = withDefaults('model', { kind: 'vae', latent: 3, encoder: ['conv 4 k3 s2 relu', 'dense 16 relu'] });
const subject = {
  build: () => buildAutoencoder(config, { encoder: config.encoder.map((text) => parseLayer(text) as LayerSpec), decoder: 'mirror' }, [8, 8, 1], 1),
  inputShape: [8, 8, 1] as [number, number, number],
  signature: config,
};

/** Replaces wasm's Relu with one that is off by 1% — the kind of error that trains without a crash. */
/** Relu made 1% wrong on the given backends (each must have registered its kernels), for the body's duration. */
async function withBrokenRelu<T>(backends: string[], body: () => Promise<T>): Promise<T> {
  const originals = backends.map((name) => tf.getKernel('Relu', name)!);
  for (const original of originals) {
    tf.unregisterKernel('Relu', original.backendName);
    tf.registerKernel({ ...original, kernelFunc: (args) => {
      const result = original.kernelFunc(args) as tf.TensorInfo;
      const backend = args.backend as unknown as { disposeData(id: object): void };
      const factor = tf.scalar(1.01);
      const scaled = tf.engine().runKernel('Multiply', { a: result as unknown as tf.Tensor, b: factor }) as tf.TensorInfo;
      backend.disposeData(result.dataId);
      factor.dispose();
      return scaled;
    } });
  }
  try {
    return await body();
  } finally {
    for (const original of originals) {
      tf.unregisterKernel('Relu', original.backendName);
      tf.registerKernel(original);
    }
  }
}

test('wasm passes the gradient check on a conv VAE, and the verdict is cached', async () => {
  const cache = path.join(temporaryDirectory(), 'checks.json');
  const info = await selectBackend('wasm');
  const first = await verifyBackend(info, subject, cache);
  assert.ok(first.ok && first.error < 1e-4 && !first.cached, JSON.stringify(first));
  assert.ok(existsSync(cache));
  assert.equal(tf.getBackend(), 'wasm', 'the check switches back to the backend under test');
  const second = await verifyBackend(info, subject, cache);
  assert.ok(second.ok && second.cached, JSON.stringify(second));
});

test('a backend with a wrong kernel is refused: by name when asked for explicitly, skipped by auto', async () => {
  const cache = path.join(temporaryDirectory(), 'checks.json');
  const info = await selectBackend('wasm');
  const verdict = await withBrokenRelu(['wasm'], () => verifyBackend(info, subject, cache));
  assert.equal(verdict.ok, false);
  assert.ok(verdict.error > 1e-3, JSON.stringify(verdict));

  const directory = temporaryDirectory();
  const previous = process.env.AEXP_CACHE_DIR;
  process.env.AEXP_CACHE_DIR = directory;
  try {
    const file = tinyExperiment(directory, { epochs: 1, count: 200 });
    // auto tries native before wasm where the addon loads: both are broken, so auto ends on cpu.
    const broken = ['wasm'];
    if (loadAddon().addon) {
      await selectBackend('native');
      broken.push('native');
    }
    await withBrokenRelu(broken, async () => {
      await assert.rejects(runExperiment({ file, backend: 'wasm', outDir: path.join(directory, 'runs') }), (error: Error) => error instanceof BackendError && /wasm backend .* failed the gradient check against cpu/.test(error.message) && /refused/.test(error.message));
      const messages: string[] = [];
      const result = await runExperiment({ file, backend: 'auto', outDir: path.join(directory, 'runs'), onEvent: (event) => event.type === 'log' && messages.push(event.message) });
      assert.equal(result.summary.backend, 'cpu', messages.join('\n'));
      assert.ok(messages.some((message) => /failed the gradient check .* trying the next backend/.test(message)), messages.join('\n'));
    });
  } finally {
    if (previous === undefined) delete process.env.AEXP_CACHE_DIR;
    else process.env.AEXP_CACHE_DIR = previous;
  }
});
