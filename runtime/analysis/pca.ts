/**
 * Principal component analysis of latent codes, in float64: the covariance of the centred points,
 * its eigenvectors by cyclic Jacobi rotations (exact for a symmetric matrix, no convergence
 * tolerance to tune, and a latent code is at most a few hundred wide), and each component's sign
 * fixed so that its largest loading is positive, so the same codes always give the same picture.
 */

export interface PrincipalComponents {
  /** [count, columns] row-major: each component a unit vector over the input columns. */
  components: Float64Array;
  count: number;
  columns: number;
  /** The variance along each component (the covariance's eigenvalue, divided by the number of points). */
  variances: number[];
  /** Each component's share of the total variance. */
  explained: number[];
  /** The points' mean, subtracted before projecting. */
  mean: Float64Array;
}

const MAX_SWEEPS = 100;

/** The eigenvalues and eigenvectors (columns of `vectors`) of a symmetric matrix, by cyclic Jacobi rotations. */
export function symmetricEigen(matrix: Float64Array, size: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(matrix);
  const vectors = new Float64Array(size * size);
  for (let index = 0; index < size; index++) vectors[index * size + index] = 1;
  for (let sweep = 0; sweep < MAX_SWEEPS; sweep++) {
    let offDiagonal = 0;
    let diagonal = 0;
    for (let row = 0; row < size; row++) {
      diagonal += a[row * size + row] ** 2;
      for (let column = row + 1; column < size; column++) offDiagonal += a[row * size + column] ** 2;
    }
    if (offDiagonal <= 1e-30 * Math.max(diagonal, Number.MIN_VALUE)) break;
    for (let p = 0; p < size - 1; p++) {
      for (let q = p + 1; q < size; q++) {
        const apq = a[p * size + q];
        if (apq === 0) continue;
        const app = a[p * size + p];
        const aqq = a[q * size + q];
        // The rotation that zeroes a[p][q] (Golub & Van Loan, algorithm 8.4.1).
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < size; k++) {
          const akp = a[k * size + p];
          const akq = a[k * size + q];
          a[k * size + p] = c * akp - s * akq;
          a[k * size + q] = s * akp + c * akq;
        }
        for (let k = 0; k < size; k++) {
          const apk = a[p * size + k];
          const aqk = a[q * size + k];
          a[p * size + k] = c * apk - s * aqk;
          a[q * size + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < size; k++) {
          const vkp = vectors[k * size + p];
          const vkq = vectors[k * size + q];
          vectors[k * size + p] = c * vkp - s * vkq;
          vectors[k * size + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = new Float64Array(size);
  for (let index = 0; index < size; index++) values[index] = a[index * size + index];
  return { values, vectors };
}

/** The `count` leading principal components of `rows` points of `columns` values each (row-major). */
export function principalComponents(points: ArrayLike<number>, rows: number, columns: number, count = 2): PrincipalComponents {
  if (points.length !== rows * columns) throw new RangeError(`${rows} points of ${columns} values need ${rows * columns} numbers, not ${points.length}`);
  if (rows < 2) throw new RangeError(`principal components need at least 2 points, not ${rows}`);
  if (count > columns) throw new RangeError(`${count} components of ${columns}-dimensional points`);
  const mean = new Float64Array(columns);
  for (let row = 0; row < rows; row++) for (let column = 0; column < columns; column++) mean[column] += points[row * columns + column];
  for (let column = 0; column < columns; column++) mean[column] /= rows;
  const covariance = new Float64Array(columns * columns);
  const centred = new Float64Array(columns);
  for (let row = 0; row < rows; row++) {
    for (let column = 0; column < columns; column++) centred[column] = points[row * columns + column] - mean[column];
    for (let i = 0; i < columns; i++) {
      const value = centred[i];
      if (value === 0) continue;
      for (let j = i; j < columns; j++) covariance[i * columns + j] += value * centred[j];
    }
  }
  for (let i = 0; i < columns; i++) {
    for (let j = i; j < columns; j++) {
      covariance[i * columns + j] /= rows;
      covariance[j * columns + i] = covariance[i * columns + j];
    }
  }
  const { values, vectors } = symmetricEigen(covariance, columns);
  const order = Array.from({ length: columns }, (_, index) => index).sort((a, b) => values[b] - values[a] || a - b);
  const total = values.reduce((sum, value) => sum + Math.max(0, value), 0);
  const components = new Float64Array(count * columns);
  const variances: number[] = [];
  for (let component = 0; component < count; component++) {
    const source = order[component];
    let largest = 0;
    for (let column = 0; column < columns; column++) {
      const loading = vectors[column * columns + source];
      if (Math.abs(loading) > Math.abs(largest)) largest = loading;
    }
    const sign = largest < 0 ? -1 : 1;
    for (let column = 0; column < columns; column++) components[component * columns + column] = sign * vectors[column * columns + source];
    variances.push(Math.max(0, values[source]));
  }
  return { components, count, columns, variances, explained: variances.map((variance) => (total > 0 ? variance / total : 0)), mean };
}

/** The points' coordinates along the components: [rows, count] row-major, float32. */
export function project(points: ArrayLike<number>, rows: number, pca: PrincipalComponents): Float32Array {
  const { columns, count, components, mean } = pca;
  const out = new Float32Array(rows * count);
  for (let row = 0; row < rows; row++) {
    for (let component = 0; component < count; component++) {
      let sum = 0;
      for (let column = 0; column < columns; column++) sum += (points[row * columns + column] - mean[column]) * components[component * columns + column];
      out[row * count + component] = sum;
    }
  }
  return out;
}
