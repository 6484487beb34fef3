// Dense symmetric linear algebra in float64 for GPTQ (gptq.ts): a Cholesky factorisation, the two
// triangular solves, and from them the inverse of a positive definite matrix and the upper Cholesky
// factor of that inverse (what torch.linalg.cholesky / cholesky_inverse / cholesky(upper=True)
// give GPTQ). Matrices are n x n, row-major, in a Float64Array. Plain textbook loops, no blocking:
// GPTQ's matrices are in_features wide (a few thousand at most for the models tritc compiles), and
// obvious code is the point here (test/quantize.test.ts checks every function against its definition).

/** Thrown when a matrix is not (numerically) positive definite; `pivot` is the failing column. */
export class NotPositiveDefinite extends Error {
  constructor(readonly pivot: number) {
    super(`the matrix is not positive definite (pivot ${pivot} is not positive)`);
  }
}

/**
 * The lower triangular L with L L^T = A (Cholesky-Banachiewicz, row by row); the strict upper
 * triangle of the result is zero. Throws NotPositiveDefinite when a pivot is not positive.
 */
export function cholesky(a: Float64Array, n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j]!;
      for (let k = 0; k < j; k++) s -= l[i * n + k]! * l[j * n + k]!;
      if (i === j) {
        if (!(s > 0)) throw new NotPositiveDefinite(i);
        l[i * n + i] = Math.sqrt(s);
      } else {
        l[i * n + j] = s / l[j * n + j]!;
      }
    }
  }
  return l;
}

/**
 * x with L x = b (forward substitution); L lower triangular, b and x of length n. `from`: b is zero
 * before this index, so x is too (the inverse's columns use it to skip the zero prefix).
 */
export function solveLower(l: Float64Array, n: number, b: ArrayLike<number>, from = 0): Float64Array {
  const x = new Float64Array(n);
  for (let i = from; i < n; i++) {
    let s = b[i]!;
    for (let k = from; k < i; k++) s -= l[i * n + k]! * x[k]!;
    x[i] = s / l[i * n + i]!;
  }
  return x;
}

/** x with L^T x = b (back substitution on the transpose of a lower triangular L). */
export function solveLowerTransposed(l: Float64Array, n: number, b: ArrayLike<number>): Float64Array {
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i]!;
    for (let k = i + 1; k < n; k++) s -= l[k * n + i]! * x[k]!;
    x[i] = s / l[i * n + i]!;
  }
  return x;
}

/**
 * A^-1 from the Cholesky factor L of A (torch.cholesky_inverse): column j of the inverse solves
 * L L^T x = e_j. The result is symmetrised (the two triangles averaged) so rounding leaves it exactly
 * symmetric for the factorisation that follows.
 */
export function choleskyInverse(l: Float64Array, n: number): Float64Array {
  const inv = new Float64Array(n * n);
  const e = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    e.fill(0);
    e[j] = 1;
    const x = solveLowerTransposed(l, n, solveLower(l, n, e, j));
    for (let i = 0; i < n; i++) inv[i * n + j] = x[i]!;
  }
  for (let i = 0; i < n; i++)
    for (let j = 0; j < i; j++) {
      const m = 0.5 * (inv[i * n + j]! + inv[j * n + i]!);
      inv[i * n + j] = m;
      inv[j * n + i] = m;
    }
  return inv;
}

/** The upper triangular U with U^T U = A: the transpose of A's lower Cholesky factor. */
export function choleskyUpper(a: Float64Array, n: number): Float64Array {
  const l = cholesky(a, n);
  const u = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) u[j * n + i] = l[i * n + j]!;
  return u;
}
