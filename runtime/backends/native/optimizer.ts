/**
 * The fused optimizer step of the `native` backend: one native pass per variable that updates the
 * weights and the optimizer's slots in place, with the formulas of runtime/train/optimizers.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { FusedUpdateRequest } from '../../train/optimizers';
import type { NativeBackend } from './backend';

const RMSPROP_ALPHA = 0.99;

export function nativeUpdate(request: FusedUpdateRequest): boolean {
  const backend = tf.backend() as NativeBackend;
  // Everything is checked before anything changes: a refusal leaves the step to the ops.
  const targets: { param: Float32Array; grad: Float32Array; slots: Float32Array[] }[] = [];
  for (const [index, variable] of request.variables.entries()) {
    const gradient = request.gradients[index];
    if (!gradient || gradient.dtype !== 'float32' || gradient.size !== variable.size) return false;
    const grad = backend.data.get(gradient.dataId)?.values;
    if (!(grad instanceof Float32Array)) return false;
    targets.push({ param: undefined as unknown as Float32Array, grad, slots: [] });
  }
  for (const [index, variable] of request.variables.entries()) {
    const param = backend.writable(variable);
    const slots = request.slots[index].map((slot) => backend.writable(slot));
    if (!param || slots.some((slot) => !slot)) return false;
    targets[index].param = param;
    targets[index].slots = slots as Float32Array[];
  }
  const { addon } = backend;
  const t = request.step;
  const l2 = request.optimizer !== 'adamw' ? request.weightDecay : 0;
  for (const { param, grad, slots } of targets) {
    switch (request.optimizer) {
      case 'adam':
      case 'adamw': {
        const keep = request.optimizer === 'adamw' && request.weightDecay > 0 ? 1 - request.lr * request.weightDecay : 1;
        addon.adam(param, grad, slots[0], slots[1], request.beta1, 1 - request.beta1, request.beta2, 1 - request.beta2, request.lr / (1 - request.beta1 ** t), Math.sqrt(1 - request.beta2 ** t), request.epsilon, l2, keep);
        break;
      }
      case 'sgd':
        addon.sgd(param, grad, slots[0], request.lr, request.momentum, l2, t === 1);
        break;
      case 'rmsprop':
        addon.rmsprop(param, grad, slots[0], slots[1], request.lr, RMSPROP_ALPHA, 1 - RMSPROP_ALPHA, request.epsilon, request.momentum, l2);
        break;
    }
  }
  return true;
}
