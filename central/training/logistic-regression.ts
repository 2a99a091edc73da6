/**
 * Binary logistic regression fitted by full-batch gradient descent with L2
 * weight decay: small enough to read, deterministic (zero start, fixed
 * steps), and exactly expressible as MatMul + Add + Sigmoid in ONNX.
 */
export interface LogisticModel {
  readonly weights: Float64Array;
  readonly bias: number;
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

export function predict(model: LogisticModel, x: Float64Array): number {
  let z = model.bias;
  for (let i = 0; i < x.length; i++) z += (model.weights[i] ?? 0) * (x[i] ?? 0);
  return sigmoid(z);
}

/** Fits on rows `xs` with labels `ys` (1 = the category, 0 = other scans). Classes are weighted equally. */
export function fitLogistic(xs: readonly Float64Array[], ys: readonly number[], options: FitOptions = DEFAULT_FIT): LogisticModel {
  const n = xs.length;
  const d = xs[0]?.length ?? 0;
  const positives = ys.filter((y) => y === 1).length;
  // Balanced weights: a site that sent three times more chest than head slices must not teach "always chest".
  const weightOf = (y: number): number => (y === 1 ? n / (2 * positives) : n / (2 * (n - positives)));
  const weights = new Float64Array(d);
  let bias = 0;
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    const gradient = new Float64Array(d);
    let gradientBias = 0;
    for (let i = 0; i < n; i++) {
      const x = xs[i] ?? new Float64Array(d);
      const y = ys[i] ?? 0;
      const error = (predict({ weights, bias }, x) - y) * weightOf(y);
      for (let j = 0; j < d; j++) gradient[j] = (gradient[j] ?? 0) + error * (x[j] ?? 0);
      gradientBias += error;
    }
    for (let j = 0; j < d; j++) weights[j] = (weights[j] ?? 0) - options.learningRate * ((gradient[j] ?? 0) / n + options.l2 * (weights[j] ?? 0));
    bias -= (options.learningRate * gradientBias) / n;
  }
  return { weights, bias };
}
