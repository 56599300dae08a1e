/**
 * WebGPU through Dawn, on whatever adapter this machine has: Mesa's software Vulkan (lavapipe, from
 * Debian backports; .ci/run installs it) on the build machines, a real GPU elsewhere. Skips with
 * the reason when no adapter is found.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../runtime/backends/select';
import { runExperiment } from '../../runtime/engine';
import { tinyExperiment } from '../helpers/experiments';
import { temporaryDirectory } from '../helpers/temp';

async function webgpuProblem(): Promise<string | false> {
  try {
    await selectBackend('webgpu');
    return false;
  } catch (error) {
    return `no WebGPU adapter here (${(error as Error).message}); install mesa-vulkan-drivers from bookworm-backports`;
  }
}

test('an experiment trains on WebGPU after passing the gradient check, with the matmul fix set', async (context) => {
  const problem = await webgpuProblem();
  if (problem) {
    context.skip(problem);
    return;
  }
  assert.equal(tf.env().get('WEBGPU_MATMUL_PROGRAM_TYPE'), 3);
  const directory = temporaryDirectory();
  const messages: string[] = [];
  const previous = process.env.AEXP_CACHE_DIR;
  process.env.AEXP_CACHE_DIR = directory;
  try {
    const result = await runExperiment({ file: tinyExperiment(directory, { epochs: 1, count: 320 }), backend: 'webgpu', outDir: path.join(directory, 'runs'), onEvent: (event) => event.type === 'log' && messages.push(event.message) });
    assert.equal(result.status, 'completed');
    assert.equal(result.summary.backend, 'webgpu');
    assert.match(result.summary.device, /WebGPU via Dawn/);
    assert.ok(messages.some((message) => /gradient check against cpu: .* relative/.test(message)), messages.join('\n'));
    assert.ok(Number.isFinite(result.summary.test!.loss));
  } finally {
    if (previous === undefined) delete process.env.AEXP_CACHE_DIR;
    else process.env.AEXP_CACHE_DIR = previous;
    await selectBackend('wasm');
  }
});
