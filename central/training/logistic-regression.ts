/**
 * Binary logistic regression fitted by full-batch gradient descent with L2
 * weight decay: small enough to read, deterministic (zero start, fixed
 * steps), and exactly expressible as Sub + Mul + MatMul + Add + Sigmoid in ONNX.
 */
export interface LogisticModel {
  readonly weights: Float64Array;
  readonly bias: number;
  /** Standardisation fitted on the training rows: z = (x - mean) * scale, before the weights. */
  readonly mean: Float64Array;
  readonly scale: Float64Array;
}

export interface FitOptions {
  readonly epochs: number;
  readonly learningRate: number;
  readonly l2: number;
}

export const DEFAULT_FIT: FitOptions = { epochs: 1500, learningRate: 0.5, l2: 1e-3 };

function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

function linear(weights: Float64Array, bias: number, z: Float64Array): number {
  let sum = bias;
  for (let i = 0; i < z.length; i++) sum += (weights[i] ?? 0) * (z[i] ?? 0);
  return sum;
}

function standardise(x: Float64Array, mean: Float64Array, scale: Float64Array): Float64Array {
  return x.map((v, i) => (v - (mean[i] ?? 0)) * (scale[i] ?? 1));
}

export function predict(model: LogisticModel, x: Float64Array): number {
  return sigmoid(linear(model.weights, model.bias, standardise(x, model.mean, model.scale)));
}

/** Fits on rows `xs` with labels `ys` (1 = the category, 0 = other scans). Classes are weighted equally. */
export function fitLogistic(xs: readonly Float64Array[], ys: readonly number[], options: FitOptions = DEFAULT_FIT): LogisticModel {
  const n = xs.length;
  const d = xs[0]?.length ?? 0;
  // Features differ in range by orders of magnitude (bone fraction vs air fraction): standardise so one step size suits all.
  const mean = new Float64Array(d).map((_, j) => xs.reduce((s, x) => s + (x[j] ?? 0), 0) / n);
  const scale = new Float64Array(d).map((_, j) => {
    const variance = xs.reduce((s, x) => s + ((x[j] ?? 0) - (mean[j] ?? 0)) ** 2, 0) / n;
    return variance > 1e-12 ? 1 / Math.sqrt(variance) : 0;
  });
  const zs = xs.map((x) => standardise(x, mean, scale));
  const positives = ys.filter((y) => y === 1).length;
  // Balanced weights: a site that sent three times more chest than head slices must not teach "always chest".
  const weightOf = (y: number): number => (y === 1 ? n / (2 * positives) : n / (2 * (n - positives)));
  const weights = new Float64Array(d);
  let bias = 0;
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    const gradient = new Float64Array(d);
    let gradientBias = 0;
    for (let i = 0; i < n; i++) {
      const x = zs[i] ?? new Float64Array(d);
      const y = ys[i] ?? 0;
      const error = (sigmoid(linear(weights, bias, x)) - y) * weightOf(y);
      for (let j = 0; j < d; j++) gradient[j] = (gradient[j] ?? 0) + error * (x[j] ?? 0);
      gradientBias += error;
    }
    for (let j = 0; j < d; j++) weights[j] = (weights[j] ?? 0) - options.learningRate * ((gradient[j] ?? 0) / n + options.l2 * (weights[j] ?? 0));
    bias -= (options.learningRate * gradientBias) / n;
  }
  return { weights, bias, mean, scale };
}
