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
 * model. A few tens of milliseconds for thirty capabilities of seven texts.
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

  #train(vectors: readonly Float32Array[], targets: readonly number[]): void {
    const classes = this.labels.length;
    const d = this.#dimensions;
    const weights = this.#weights;
    const bias = this.#bias;
    const gradient = new Float64Array(weights.length);
    const biasGradient = new Float64Array(classes);
    const velocity = new Float64Array(weights.length);
    const biasVelocity = new Float64Array(classes);
    const logits = new Float64Array(classes);
    const n = vectors.length;
    for (let epoch = 0; epoch < EPOCHS; epoch++) {
      gradient.fill(0);
      biasGradient.fill(0);
      for (let sample = 0; sample < n; sample++) {
        const x = vectors[sample]!;
        this.#logits(x, logits);
        softmaxInPlace(logits, 1);
        logits[targets[sample]!]! -= 1;
        for (let c = 0; c < classes; c++) {
          const g = logits[c]!;
          biasGradient[c]! += g;
          const offset = c * d;
          for (let i = 0; i < d; i++) gradient[offset + i]! += g * x[i]!;
        }
      }
      for (let j = 0; j < weights.length; j++) {
        velocity[j] = MOMENTUM * velocity[j]! - LEARNING_RATE * (gradient[j]! / n + L2 * weights[j]!);
        weights[j]! += velocity[j]!;
      }
      for (let c = 0; c < classes; c++) {
        biasVelocity[c] = MOMENTUM * biasVelocity[c]! - (LEARNING_RATE * biasGradient[c]!) / n;
        bias[c]! += biasVelocity[c]!;
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
