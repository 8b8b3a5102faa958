import { checkUnitInterval } from '../argument-checks.ts';
import { InvalidArgumentError } from '../errors.ts';

/**
 * The registry's classifier: fitted on the registry's own texts (each capability's description,
 * declared examples and learnt tasks, labelled with the capability), it says how likely each
 * capability is for a task. Routing adds `weight × probability` to a candidate's similarity when it
 * orders the candidates that reached `minScore`; "no capability fits" is still the similarity cut.
 * Measured on the labelled requests in bench/data (tuning half only), see
 * docs/decisions/0032-a-classifier-fitted-on-the-registrys-texts.md.
 */
export interface CapabilityClassifierOptions {
  /** How much a probability of 1 adds to a candidate's similarity when candidates are ordered. Default 0.3. */
  weight?: number;
  /** The softmax temperature its probabilities are read at. Default 0.5. */
  temperature?: number;
  /**
   * The largest fit it makes, as texts × capabilities (its cost grows with both and with the
   * dimensions; 30 desks of 7 texts are 6,300). Larger registries route by similarity alone. Default 20,000.
   */
  maxWork?: number;
}

export interface ResolvedClassifierOptions {
  weight: number;
  temperature: number;
  maxWork: number;
}

export function resolveClassifierOptions(
  options: CapabilityClassifierOptions | false | undefined,
): ResolvedClassifierOptions | undefined {
  if (options === false) return undefined;
  const temperature = options?.temperature ?? 0.5;
  if (!(temperature > 0) || !Number.isFinite(temperature))
    throw new InvalidArgumentError(
      `The capability classifier's temperature must be a number greater than 0, got ${String(temperature)}.`,
    );
  const maxWork = options?.maxWork ?? 20_000;
  if (!(maxWork >= 0))
    throw new InvalidArgumentError(
      `The capability classifier's maxWork must be at least 0, got ${String(maxWork)}.`,
    );
  return {
    weight: checkUnitInterval(options?.weight ?? 0.3, "The capability classifier's weight"),
    temperature,
    maxWork,
  };
}

/** Training settings, chosen on the tuning half (60 epochs of momentum gradient descent, L2 1e-3). */
const EPOCHS = 60;
const LEARNING_RATE = 4;
const MOMENTUM = 0.9;
const L2 = 1e-3;

/**
 * A multinomial logistic regression over unit vectors, fitted by full-batch gradient descent with
 * momentum from zero weights: deterministic, so every worker fitting the same texts gets the same
 * model. A fraction of a second for thirty capabilities of seven texts (bench/routing-quality.ts
 * prints it).
 */
export class CapabilityClassifier {
  readonly labels: readonly string[];
  readonly #dimensions: number;
  readonly #weights: Float64Array;
  readonly #bias: Float64Array;
  readonly #temperature: number;

  private constructor(labels: string[], dimensions: number, temperature: number) {
    this.labels = labels;
    this.#dimensions = dimensions;
    this.#weights = new Float64Array(labels.length * dimensions);
    this.#bias = new Float64Array(labels.length);
    this.#temperature = temperature;
  }

  /** Fits a classifier on labelled unit vectors; undefined with fewer than two labels. */
  static fit(
    samples: readonly { label: string; vector: Float32Array }[],
    dimensions: number,
    temperature: number,
  ): CapabilityClassifier | undefined {
    const labels = [...new Set(samples.map((sample) => sample.label))].sort();
    if (labels.length < 2) return undefined;
    const classifier = new CapabilityClassifier(labels, dimensions, temperature);
    const index = new Map(labels.map((label, at) => [label, at]));
    classifier.#train(
      samples.map((sample) => sample.vector),
      samples.map((sample) => index.get(sample.label)!),
    );
    return classifier;
  }

  /**
   * Gradient descent in the span of the samples (the weights of a class are a combination of the
   * sample vectors, as they stay from zero under L2): each epoch costs classes × samples² through
   * the samples' Gram matrix instead of classes × samples × dimensions twice.
   */
  #train(vectors: readonly Float32Array[], targets: readonly number[]): void {
    const classes = this.labels.length;
    const n = vectors.length;
    const d = this.#dimensions;
    const gram = new Float64Array(n * n);
    for (let a = 0; a < n; a++) {
      const x = vectors[a]!;
      for (let b = 0; b <= a; b++) {
        const y = vectors[b]!;
        let sum = 0;
        for (let i = 0; i < d; i++) sum += x[i]! * y[i]!;
        gram[a * n + b] = sum;
        gram[b * n + a] = sum;
      }
    }
    // alpha[c·n + m]: the weight of sample m in class c's weight vector.
    const alpha = new Float64Array(classes * n);
    const velocity = new Float64Array(classes * n);
    const bias = this.#bias;
    const biasVelocity = new Float64Array(classes);
    const gradient = new Float64Array(classes * n);
    const logits = new Float64Array(classes);
    for (let epoch = 0; epoch < EPOCHS; epoch++) {
      const biasGradient = new Float64Array(classes);
      for (let sample = 0; sample < n; sample++) {
        const row = sample * n;
        for (let c = 0; c < classes; c++) {
          let sum = bias[c]!;
          const offset = c * n;
          for (let m = 0; m < n; m++) sum += alpha[offset + m]! * gram[row + m]!;
          logits[c] = sum;
        }
        softmaxInPlace(logits, 1);
        logits[targets[sample]!]! -= 1;
        for (let c = 0; c < classes; c++) {
          gradient[c * n + sample] = logits[c]!;
          biasGradient[c]! += logits[c]!;
        }
      }
      for (let j = 0; j < alpha.length; j++) {
        velocity[j] = MOMENTUM * velocity[j]! - LEARNING_RATE * (gradient[j]! / n + L2 * alpha[j]!);
        alpha[j]! += velocity[j]!;
      }
      for (let c = 0; c < classes; c++) {
        biasVelocity[c] = MOMENTUM * biasVelocity[c]! - (LEARNING_RATE * biasGradient[c]!) / n;
        bias[c]! += biasVelocity[c]!;
      }
    }
    const weights = this.#weights;
    for (let c = 0; c < classes; c++) {
      for (let m = 0; m < n; m++) {
        const a = alpha[c * n + m]!;
        if (a === 0) continue;
        const x = vectors[m]!;
        const offset = c * d;
        for (let i = 0; i < d; i++) weights[offset + i]! += a * x[i]!;
      }
    }
  }

  #logits(x: Float32Array, out: Float64Array): Float64Array {
    const d = this.#dimensions;
    for (let c = 0; c < this.labels.length; c++) {
      let sum = this.#bias[c]!;
      const offset = c * d;
      for (let i = 0; i < d; i++) sum += this.#weights[offset + i]! * x[i]!;
      out[c] = sum;
    }
    return out;
  }

  /** Each label's probability for a unit vector, at the classifier's temperature. */
  probabilities(vector: Float32Array): Map<string, number> {
    const values = softmaxInPlace(
      this.#logits(vector, new Float64Array(this.labels.length)),
      this.#temperature,
    );
    return new Map(this.labels.map((label, at) => [label, values[at]!]));
  }
}

function softmaxInPlace(values: Float64Array, temperature: number): Float64Array {
  let max = -Infinity;
  for (const value of values) if (value > max) max = value;
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    values[i] = Math.exp((values[i]! - max) / temperature);
    sum += values[i]!;
  }
  for (let i = 0; i < values.length; i++) values[i]! /= sum;
  return values;
}
