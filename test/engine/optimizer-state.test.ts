/** A checkpoint's optimizer state is checked whole against the optimizer before a resume takes it (or writes anything). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../runtime/backends/select';
import type { TrainConfig } from '../../runtime/format/schema';
import type { OptimizerState } from '../../runtime/train/optimizers';
import { Optimizer } from '../../runtime/train/optimizers';

const adam: TrainConfig = { epochs: 1, optimizer: 'adam', lr: 0.1, betas: [0.9, 0.999], epsilon: 1e-8, weight_decay: 0, schedule: 'constant', step_size: 1, gamma: 0.1, min_lr: 0, warmup_steps: 0, checkpoint_every: 0, validate: true, log_every: 50 };

test('an optimizer state of another optimizer, slot count or slot shape is refused, naming what does not fit, and changes nothing', async () => {
  await selectBackend('cpu');
  const variables = [tf.variable(tf.tensor2d([1, 2, 3, 4], [2, 2])), tf.variable(tf.tensor1d([1, -2]))];
  const trained = new Optimizer(adam, variables);
  tf.tidy(() => trained.apply([tf.onesLike(variables[0]), tf.onesLike(variables[1])], 0.1));
  const state = await trained.getState();
  const fresh = new Optimizer(adam, variables);
  const refused = (changed: OptimizerState, reason: string) => {
    assert.throws(() => fresh.checkState(changed), (error: Error) => error.message === reason);
    assert.throws(() => fresh.setState(changed), (error: Error) => error.message === reason);
    assert.equal(fresh.step, 0, 'a refused state changes nothing');
  };
  try {
    fresh.checkState(state);
    refused({ ...state, name: 'sgd' }, "its optimizer state is sgd's, this run uses adam");
    refused({ ...state, slots: state.slots.slice(1) }, 'its optimizer state holds 3 slots, this model and adam need 4');
    const [first, ...rest] = state.slots;
    refused({ ...state, slots: [{ ...first, shape: [4], values: new Float32Array(4) }, ...rest] }, 'its optimizer slot m of variable 0 has shape [4], the model expects [2,2]');
    refused({ ...state, slots: [{ ...first, values: new Float32Array(3) }, ...rest] }, 'its optimizer slot m of variable 0 holds 3 values for shape [2,2]');
    refused({ ...state, slots: [{ ...first, variable: 7 }, ...rest] }, "its optimizer slot m of variable 7 is not one of adam's for this model");
    refused({ ...state, slots: [first, first, ...rest.slice(1)] }, 'its optimizer slot m of variable 0 appears twice');
    fresh.setState(state);
    assert.equal(fresh.step, 1);
    assert.deepEqual((await fresh.getState()).slots.map((slot) => Array.from(slot.values)), state.slots.map((slot) => Array.from(slot.values)));
  } finally {
    trained.dispose();
    fresh.dispose();
    for (const variable of variables) variable.dispose();
  }
});
