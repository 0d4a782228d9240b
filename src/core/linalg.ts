/**
 * Small dense linear algebra in float64 JavaScript, for what tfjs lacks (an
 * eigendecomposition): RankMe's singular values, MMCR's nuclear norm and its
 * gradient, and PCA / whitening.
 *
 * @module
 */

/** Eigenvalues (ascending) and, when asked, eigenvectors (columns of a row-major n×n array). */
export interface SymmetricEigen {
  values: Float64Array;
  vectors: Float64Array | null;
}

/**
 * Eigendecomposition of a symmetric n×n matrix (row-major; only symmetry is
 * assumed, not checked): Householder reduction to tridiagonal form followed by
 * the implicit QL algorithm, the classic pair `tred2` / `tql2` (Wilkinson &
 * Reinsch's Handbook, as in EISPACK and JAMA). O(n³); accurate to a few ulps of
 * the largest eigenvalue. `vectors[i·n + k]` is component i of the k-th
 * eigenvector, paired with `values[k]`.
 */
export function symmetricEigen(matrix: ArrayLike<number>, n: number, withVectors = true): SymmetricEigen {
  const V: Float64Array[] = [];
  for (let i = 0; i < n; i++) V.push(Float64Array.from({ length: n }, (_, j) => matrix[i * n + j] as number));
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  if (n === 0) return { values: d, vectors: withVectors ? new Float64Array(0) : null };
  tridiagonalize(V, d, e, n);
  tridiagonalQl(V, d, e, n, withVectors);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => d[a]! - d[b]!);
  const values = Float64Array.from(order, (k) => d[k]!);
  let vectors: Float64Array | null = null;
  if (withVectors) {
    vectors = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      const row = V[i]!;
      for (let c = 0; c < n; c++) vectors[i * n + c] = row[order[c]!]!;
    }
  }
  return { values, vectors };
}

/** Householder reduction of the symmetric matrix in `V` to tridiagonal form (`d` diagonal, `e` sub-diagonal); `V` becomes the orthogonal transform. */
function tridiagonalize(V: Float64Array[], d: Float64Array, e: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) d[j] = V[n - 1]![j]!;
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]!);
    if (scale === 0) {
      e[i] = d[i - 1]!;
      for (let j = 0; j < i; j++) {
        d[j] = V[i - 1]![j]!;
        V[i]![j] = 0;
        V[j]![i] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k] = d[k]! / scale;
        h += d[k]! * d[k]!;
      }
      let f = d[i - 1]!;
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        f = d[j]!;
        V[j]![i] = f;
        g = e[j]! + V[j]![j]! * f;
        for (let k = j + 1; k <= i - 1; k++) {
          g += V[k]![j]! * d[k]!;
          e[k] = e[k]! + V[k]![j]! * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] = e[j]! / h;
        f += e[j]! * d[j]!;
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] = e[j]! - hh * d[j]!;
      for (let j = 0; j < i; j++) {
        f = d[j]!;
        g = e[j]!;
        for (let k = j; k <= i - 1; k++) V[k]![j] = V[k]![j]! - (f * e[k]! + g * d[k]!);
        d[j] = V[i - 1]![j]!;
        V[i]![j] = 0;
      }
    }
    d[i] = h;
  }
  // Accumulate the transformations.
  for (let i = 0; i < n - 1; i++) {
    V[n - 1]![i] = V[i]![i]!;
    V[i]![i] = 1;
    const h = d[i + 1]!;
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = V[k]![i + 1]! / h;
      for (let j = 0; j <= i; j++) {
        let g = 0;
        for (let k = 0; k <= i; k++) g += V[k]![i + 1]! * V[k]![j]!;
        for (let k = 0; k <= i; k++) V[k]![j] = V[k]![j]! - g * d[k]!;
      }
    }
    for (let k = 0; k <= i; k++) V[k]![i + 1] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = V[n - 1]![j]!;
    V[n - 1]![j] = 0;
  }
  V[n - 1]![n - 1] = 1;
  e[0] = 0;
}

/** Implicit QL iterations on the tridiagonal (`d`, `e`): eigenvalues into `d`, eigenvectors accumulated into `V` when asked. */
function tridiagonalQl(V: Float64Array[], d: Float64Array, e: Float64Array, n: number, withVectors: boolean): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i]!;
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]!) + Math.abs(e[l]!));
    let m = l;
    while (m < n) {
      if (Math.abs(e[m]!) <= eps * tst1) break;
      m++;
    }
    if (m > l) {
      let iterations = 0;
      do {
        if (++iterations > 60) break; // converges in 1–3 sweeps; a guard against NaN input
        let g = d[l]!;
        let p = (d[l + 1]! - g) / (2 * e[l]!);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l]! / (p + r);
        d[l + 1] = e[l]! * (p + r);
        const dl1 = d[l + 1]!;
        let h = g - d[l]!;
        for (let i = l + 2; i < n; i++) d[i] = d[i]! - h;
        f += h;
        p = d[m]!;
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1]!;
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i]!;
          h = c * p;
          r = Math.hypot(p, e[i]!);
          e[i + 1] = s * r;
          s = e[i]! / r;
          c = p / r;
          p = c * d[i]! - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]!);
          if (withVectors) {
            for (let k = 0; k < n; k++) {
              const row = V[k]!;
              h = row[i + 1]!;
              row[i + 1] = s * row[i]! + c * h;
              row[i] = c * row[i]! - s * h;
            }
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]!) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]!) > eps * tst1);
    }
    d[l] = d[l]! + f;
    e[l] = 0;
  }
}

/**
 * The Gram matrix of the smaller side of a row-major `rows × cols` matrix, in
 * float64: `XᵀX` (cols × cols) when rows ≥ cols, else `XXᵀ` (rows × rows).
 * Its eigenvalues are the squared singular values of X.
 */
export function smallGram(x: ArrayLike<number>, rows: number, cols: number): { gram: Float64Array; size: number } {
  if (rows >= cols) {
    const g = new Float64Array(cols * cols);
    const row = new Float64Array(cols);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < cols; j++) row[j] = x[r * cols + j] as number;
      for (let i = 0; i < cols; i++) {
        const xi = row[i]!;
        if (xi === 0) continue;
        const base = i * cols;
        for (let j = i; j < cols; j++) g[base + j] = g[base + j]! + xi * row[j]!;
      }
    }
    for (let i = 0; i < cols; i++) for (let j = 0; j < i; j++) g[i * cols + j] = g[j * cols + i]!;
    return { gram: g, size: cols };
  }
  const g = new Float64Array(rows * rows);
  for (let i = 0; i < rows; i++) {
    for (let j = i; j < rows; j++) {
      let s = 0;
      for (let k = 0; k < cols; k++) s += (x[i * cols + k] as number) * (x[j * cols + k] as number);
      g[i * rows + j] = s;
      g[j * rows + i] = s;
    }
  }
  return { gram: g, size: rows };
}

/**
 * The singular values of a row-major `rows × cols` matrix X and the singular
 * vectors of its smaller side, from the eigendecomposition `G = W Λ Wᵀ` of the
 * smaller Gram matrix G (`XᵀX` when rows ≥ cols, else `XXᵀ`): σ = √max(λ, 0),
 * and W holds the right singular vectors V (rows ≥ cols) or the left ones U.
 * The one spectral path of the library: `singularValues` (RankMe) and the
 * differentiable nuclear norm both go through it.
 */
export interface SmallSideSpectrum {
  /** Singular values σ, ascending (min(rows, cols) of them). */
  sigma: Float64Array;
  /** Eigenvectors of the smaller Gram matrix, column k paired with `sigma[k]` (row-major size × size); null unless asked. */
  vectors: Float64Array | null;
  /** min(rows, cols). */
  size: number;
  /** Whether the Gram matrix was XᵀX (rows ≥ cols): `vectors` are then right singular vectors. */
  rightSide: boolean;
}

/** See {@link SmallSideSpectrum}. */
export function smallSideSpectrum(x: ArrayLike<number>, rows: number, cols: number, withVectors: boolean): SmallSideSpectrum {
  const { gram, size } = smallGram(x, rows, cols);
  const { values, vectors } = symmetricEigen(gram, size, withVectors);
  return { sigma: Float64Array.from(values, (v) => Math.sqrt(Math.max(v, 0))), vectors, size, rightSide: rows >= cols };
}

/** Singular values of a row-major `rows × cols` matrix, descending (min(rows, cols) of them). */
export function singularValues(x: ArrayLike<number>, rows: number, cols: number): Float64Array {
  return smallSideSpectrum(x, rows, cols, false).sigma.reverse();
}

/**
 * Relative threshold below which a singular value counts as zero: numpy's
 * `matrix_rank` rule `max(rows, cols) · ε` with float32's ε (the inputs are
 * float32, so smaller singular values are rounding noise).
 */
export function rankTolerance(rows: number, cols: number): number {
  return Math.max(rows, cols) * 2 ** -23;
}

/**
 * The nuclear norm `‖X‖_* = Σ σ_i` of a row-major `rows × cols` matrix and,
 * when asked, its minimum-norm (sub)gradient `U_r V_rᵀ` over the singular
 * values above {@link rankTolerance}·σ_max, in float64:
 * `X·V_r Σ_r⁻¹ V_rᵀ` (rows ≥ cols) or `U_r Σ_r⁻¹ U_rᵀ·X`. `V f(Λ) Vᵀ` is a
 * function of the Gram matrix, so the result does not depend on how a
 * repeated singular value's vectors were chosen; directions of zero singular
 * values get no gradient (a valid subgradient: any `‖·‖₂ ≤ 1` completion is).
 * Non-finite input gives NaN (value and gradient), never a partial result.
 */
export function nuclearNormOf(
  x: ArrayLike<number>,
  rows: number,
  cols: number,
  withGradient: boolean,
): { value: number; gradient: Float64Array | null } {
  for (let i = 0; i < rows * cols; i++) {
    if (!Number.isFinite(x[i] as number)) {
      return { value: NaN, gradient: withGradient ? new Float64Array(rows * cols).fill(NaN) : null };
    }
  }
  const { sigma, vectors, size, rightSide } = smallSideSpectrum(x, rows, cols, withGradient);
  let value = 0;
  for (const s of sigma) value += s;
  if (!withGradient) return { value, gradient: null };
  const largest = size > 0 ? sigma[size - 1]! : 0;
  const tolerance = rankTolerance(rows, cols) * largest;
  // P = W diag(1/σ) Wᵀ over the kept singular values (size × size).
  const p = new Float64Array(size * size);
  for (let k = 0; k < size; k++) {
    const s = sigma[k]!;
    if (!(s > tolerance)) continue;
    for (let i = 0; i < size; i++) {
      const wi = vectors![i * size + k]! / s;
      if (wi === 0) continue;
      for (let j = 0; j < size; j++) p[i * size + j] = p[i * size + j]! + wi * vectors![j * size + k]!;
    }
  }
  const gradient = new Float64Array(rows * cols);
  if (rightSide) {
    // X P: rows × cols times cols × cols.
    for (let r = 0; r < rows; r++) {
      for (let k = 0; k < cols; k++) {
        const xrk = x[r * cols + k] as number;
        if (xrk === 0) continue;
        for (let j = 0; j < cols; j++) gradient[r * cols + j] = gradient[r * cols + j]! + xrk * p[k * cols + j]!;
      }
    }
  } else {
    // P X: rows × rows times rows × cols.
    for (let i = 0; i < rows; i++) {
      for (let k = 0; k < rows; k++) {
        const pik = p[i * rows + k]!;
        if (pik === 0) continue;
        for (let j = 0; j < cols; j++) gradient[i * cols + j] = gradient[i * cols + j]! + pik * (x[k * cols + j] as number);
      }
    }
  }
  return { value, gradient };
}
