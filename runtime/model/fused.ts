/**
 * Fused operations: one kernel where a backend has one, the same math in composed ops where it
 * does not, so model code stays backend-agnostic (as TF.js's own fused matmul). A backend opts in
 * by registering kernels under these names; the gradients below work on every backend.
 */
import * as tf from '@tensorflow/tfjs-core';

/** Σ over each example's elements of max(l, 0) − l·x + log(1 + e^−|l|): inputs {logits, x}, output [batch]. */
export const BERNOULLI_NLL = 'LatentLabBernoulliNll';
/** ∂/∂logits of dy·BERNOULLI_NLL: inputs {logits, x, dy}, output shaped like logits. */
export const BERNOULLI_NLL_GRADIENT = 'LatentLabBernoulliNllGradient';

function hasKernel(name: string): boolean {
  return tf.getKernel(name, tf.getBackend()) !== undefined;
}

/** Per-element negative log-likelihood of x under Bernoulli(σ(logits)), stable for large |logit|. */
export function bernoulliNllElements(logits: tf.Tensor, x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.add(tf.sub(tf.relu(logits), tf.mul(logits, x)), tf.log1p(tf.exp(tf.neg(tf.abs(logits))))));
}

/** The per-example sum of bernoulliNllElements: shape [batch]. */
export function bernoulliNllPerExample(logits: tf.Tensor, x: tf.Tensor): tf.Tensor1D {
  if (hasKernel(BERNOULLI_NLL) && logits.dtype === 'float32' && x.dtype === 'float32' && tf.util.arraysEqual(logits.shape, x.shape) && logits.rank >= 2) {
    return tf.engine().runKernel(BERNOULLI_NLL, { logits, x }) as tf.Tensor1D;
  }
  return tf.tidy(() => tf.sum(bernoulliNllElements(logits, x), x.shape.slice(1).map((_, index) => index + 1)) as tf.Tensor1D);
}

/** dy [batch] broadcast over each example's elements. */
function perExample(dy: tf.Tensor, like: tf.Tensor): tf.Tensor {
  return tf.reshape(dy, [dy.shape[0], ...like.shape.slice(1).map(() => 1)]);
}

tf.registerGradient({
  kernelName: BERNOULLI_NLL,
  inputsToSave: ['logits', 'x'],
  gradFunc: (dy, saved) => {
    const [logits, x] = saved;
    const upstream = dy as tf.Tensor;
    return {
      logits: () => (hasKernel(BERNOULLI_NLL_GRADIENT)
        ? tf.engine().runKernel(BERNOULLI_NLL_GRADIENT, { logits, x, dy: upstream }) as tf.Tensor
        : tf.mul(perExample(upstream, logits), tf.sub(tf.sigmoid(logits), x))),
      // The targets are data, so this is rarely asked for: ∂/∂x = −l.
      x: () => tf.mul(perExample(upstream, logits), tf.neg(logits)),
    };
  },
});
