/**
 * Paths through latent space, as rows of vectors to decode: interpolation between two points and
 * the traversal of one dimension. Plain float64 arithmetic on a few vectors; no tensors.
 */

/** Below this sin Ω (endpoints parallel or opposite), slerp's arc is undefined or the chord: lerp. */
const DEGENERATE_SINE = 1e-6;

function norm(vector: Float32Array): number {
  let sum = 0;
  for (const value of vector) sum += value * value;
  return Math.sqrt(sum);
}

/**
 * `steps` vectors from `from` to `to`, both included. `lerp` walks the straight line; `slerp`
 * weights the endpoints by sin((1 − t)Ω)/sin Ω and sin(tΩ)/sin Ω, Ω their angle (White 2016,
 * "Sampling Generative Networks"): under a Gaussian prior most of the mass lies on a shell, and
 * the straight line's middle falls inside it. Parallel or opposite endpoints, or a zero one, give lerp.
 */
export function interpolationPath(from: Float32Array, to: Float32Array, steps: number, method: 'lerp' | 'slerp'): Float32Array {
  if (from.length !== to.length) throw new RangeError(`the endpoints have ${from.length} and ${to.length} dimensions`);
  const latent = from.length;
  const out = new Float32Array(steps * latent);
  const fromNorm = norm(from);
  const toNorm = norm(to);
  let cosine = 0;
  if (fromNorm > 0 && toNorm > 0) {
    for (let index = 0; index < latent; index++) cosine += from[index] * to[index];
    cosine = Math.max(-1, Math.min(1, cosine / (fromNorm * toNorm)));
  }
  const angle = Math.acos(cosine);
  const straight = method === 'lerp' || fromNorm === 0 || toNorm === 0 || Math.sin(angle) < DEGENERATE_SINE;
  for (let step = 0; step < steps; step++) {
    const t = steps === 1 ? 0 : step / (steps - 1);
    let a = 1 - t;
    let b = t;
    if (!straight) {
      const sine = Math.sin(angle);
      a = Math.sin((1 - t) * angle) / sine;
      b = Math.sin(t * angle) / sine;
    }
    for (let index = 0; index < latent; index++) out[step * latent + index] = a * from[index] + b * to[index];
  }
  return out;
}

/** `steps` copies of `origin` whose `dimension` takes evenly spaced values from `low` to `high`. */
export function traversalPath(origin: Float32Array, dimension: number, low: number, high: number, steps: number): { z: Float32Array; values: Float32Array } {
  if (dimension >= origin.length) throw new RangeError(`dimension ${dimension} is past the code's ${origin.length} dimensions (0–${origin.length - 1})`);
  const latent = origin.length;
  const z = new Float32Array(steps * latent);
  const values = new Float32Array(steps);
  for (let step = 0; step < steps; step++) {
    values[step] = steps === 1 ? (low + high) / 2 : low + ((high - low) * step) / (steps - 1);
    z.set(origin, step * latent);
    z[step * latent + dimension] = values[step];
  }
  return { z, values };
}
