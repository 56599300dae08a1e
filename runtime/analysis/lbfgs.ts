/**
 * Limited-memory BFGS for smooth convex objectives (the linear probe's regularized cross-entropy), in float64.
 *
 * The line search brackets a step that satisfies the Wolfe conditions. Close to a tight optimum the decrease
 * c₁·t·φ′(0) falls below the rounding of f itself, so a step is also accepted on the approximate Wolfe
 * conditions of Hager and Zhang (2005): f barely above f(0) but the directional derivative, which rounding does
 * not swamp, shrunk and still negative. Without that, tolerances much below √ε on the gradient stall.
 */

/** Writes the gradient at `point` into `gradient` and returns the value. */
export type Objective = (point: Float64Array, gradient: Float64Array) => number;

export interface MinimizeOptions {
  /** Stop when every component of the gradient is at most this in magnitude. */
  tolerance: number;
  maxIterations: number;
  /** Correction pairs kept. */
  memory?: number;
}

export interface Minimum {
  point: Float64Array;
  value: number;
  /** Largest gradient component at `point`. */
  gradientNorm: number;
  iterations: number;
  converged: boolean;
}

const SUFFICIENT_DECREASE = 1e-4;
const CURVATURE = 0.9;
const LINE_SEARCH_STEPS = 60;

function dot(first: Float64Array, second: Float64Array): number {
  let total = 0;
  for (let index = 0; index < first.length; index++) total += first[index] * second[index];
  return total;
}

function largest(values: Float64Array): number {
  let result = 0;
  for (const value of values) result = Math.max(result, Math.abs(value));
  return result;
}

export function minimize(objective: Objective, start: Float64Array, options: MinimizeOptions): Minimum {
  const memory = options.memory ?? 10;
  const size = start.length;
  let point = Float64Array.from(start);
  let gradient = new Float64Array(size);
  let value = objective(point, gradient);
  const steps: Float64Array[] = [];
  const changes: Float64Array[] = [];
  const curvatures: number[] = [];
  const direction = new Float64Array(size);
  const alphas = new Float64Array(memory);
  let trial = new Float64Array(size);
  let trialGradient = new Float64Array(size);
  let iterations = 0;
  while (iterations < options.maxIterations && largest(gradient) > options.tolerance) {
    // Two-loop recursion: direction = −H·gradient.
    for (let index = 0; index < size; index++) direction[index] = -gradient[index];
    for (let pair = steps.length - 1; pair >= 0; pair--) {
      alphas[pair] = dot(steps[pair], direction) / curvatures[pair];
      const change = changes[pair];
      for (let index = 0; index < size; index++) direction[index] -= alphas[pair] * change[index];
    }
    const last = steps.length - 1;
    const scaling = last >= 0 ? curvatures[last] / dot(changes[last], changes[last]) : 1 / Math.max(1, Math.sqrt(dot(gradient, gradient)));
    for (let index = 0; index < size; index++) direction[index] *= scaling;
    for (let pair = 0; pair < steps.length; pair++) {
      const beta = dot(changes[pair], direction) / curvatures[pair];
      const step = steps[pair];
      for (let index = 0; index < size; index++) direction[index] += (alphas[pair] - beta) * step[index];
    }
    let slope = dot(gradient, direction);
    if (!(slope < 0)) {
      // Not a descent direction (rounding in the history): start the history again from steepest descent.
      steps.length = 0;
      changes.length = 0;
      curvatures.length = 0;
      for (let index = 0; index < size; index++) direction[index] = -gradient[index];
      slope = -dot(gradient, gradient);
    }
    const found = lineSearch(objective, point, value, slope, direction, trial, trialGradient);
    if (!found) break;
    iterations++;
    const step = new Float64Array(size);
    const change = new Float64Array(size);
    for (let index = 0; index < size; index++) {
      step[index] = trial[index] - point[index];
      change[index] = trialGradient[index] - gradient[index];
    }
    const curvature = dot(step, change);
    if (curvature > 1e-300) {
      steps.push(step);
      changes.push(change);
      curvatures.push(curvature);
      if (steps.length > memory) {
        steps.shift();
        changes.shift();
        curvatures.shift();
      }
    }
    [point, trial] = [trial, point];
    [gradient, trialGradient] = [trialGradient, gradient];
    value = found.value;
  }
  const gradientNorm = largest(gradient);
  return { point, value, gradientNorm, iterations, converged: gradientNorm <= options.tolerance };
}

/** Writes an accepted point and its gradient into `trial` and `trialGradient`; undefined when no step helps. */
function lineSearch(objective: Objective, point: Float64Array, value: number, slope: number, direction: Float64Array, trial: Float64Array, trialGradient: Float64Array): { value: number } | undefined {
  let low = 0;
  let high = Infinity;
  let step = 1;
  const slack = 1e-12 * Math.abs(value);
  for (let attempt = 0; attempt < LINE_SEARCH_STEPS; attempt++) {
    for (let index = 0; index < point.length; index++) trial[index] = point[index] + step * direction[index];
    const trialValue = objective(trial, trialGradient);
    const trialSlope = dot(trialGradient, direction);
    const decreased = trialValue <= value + SUFFICIENT_DECREASE * step * slope;
    const approximately = trialValue <= value + slack && trialSlope <= (1 - 2 * SUFFICIENT_DECREASE) * -slope;
    if (!Number.isFinite(trialValue) || !(decreased || approximately)) {
      high = step;
    } else if (trialSlope < CURVATURE * slope) {
      low = step;
    } else {
      return { value: trialValue };
    }
    step = Number.isFinite(high) ? (low + high) / 2 : 2 * step;
  }
  return undefined;
}
