import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { symmetricEigen } from '../core/linalg.js';
import { normalizeLastAxis } from '../core/normalize.js';
import { createRng, type Rng } from '../core/rng.js';
import { assertInteger, assertKnownOptions, assertPositive, describeValue } from '../core/validate.js';
import { compose } from '../augment/compose.js';
import { RandomHorizontalFlip } from '../augment/flip.js';
import { RandomResizedCrop } from '../augment/resized-crop.js';
import type { Transform } from '../augment/transform.js';
import { InvalidArgumentError, ValueRangeError } from '../core/errors.js';
import { classificationHead } from '../heads/classification-head.js';
import { initKernelLayer } from '../heads/init.js';
import { kMeans, MAX_KMEANS_ITERATIONS } from '../losses/k-means.js';
import { trainableVariables } from '../train/variables.js';
import { assertEncoder, assertImageBatch, checkTrainingOptions, encoderFeatureDim, resolveImageShape, checkTaskOptions } from './internal/common.js';
import { crossEntropy } from './internal/classify.js';
import { BasePretextTask, embedImages, encodeImages, type ImageEncoder, type StepState } from './pretext-task.js';
import { assertMemoryFits } from '../core/memory-budget.js';
import type { TaskOptions } from './task-options.js';

/** Options of {@link DeepCluster}. */
export interface DeepClusterOptions extends TaskOptions {
  /**
   * `[H, W, C]` of the images.
   * @default the encoder's input shape
   */
  imageShape?: readonly number[];
  /**
   * Number of clusters k (the paper uses 10,000 for ImageNet's 1,000
   * classes: over-segmenting helps).
   * @default 100
   */
  numClusters?: number;
  /**
   * Dimension the features are PCA-reduced (and whitened) to before k-means.
   * @default min(32, feature size) (the paper: 256 of AlexNet's 4,096)
   */
  pcaDim?: number;
  /**
   * Images kept for clustering (the most recent ones `step` received): the
   * paper clusters the whole dataset every epoch.
   * @default 4096
   */
  memorySize?: number;
  /**
   * Training steps between reclusterings once the memory is full (while it
   * fills, the task also reclusters whenever the memory has doubled).
   * @default 50
   */
  clusterEvery?: number;
  /**
   * Lloyd iterations of each k-means.
   * @default 20
   */
  kMeansIterations?: number;
  /**
   * The augmentation of the training batches (not of the images being
   * clustered), as the paper trains on random resized crops and horizontal
   * flips while it clusters centre crops; `null` for none.
   * @default random resized crop (scale 0.3–1) and horizontal flip
   */
  augment?: Transform | null;
  /**
   * The cluster classifier `[B, F]` → `[B, numClusters]`, re-initialised at
   * every reclustering; not disposed by the task.
   * @default a linear classificationHead, owned by the task
   */
  head?: tfl.LayersModel;
  /**
   * Adam's learning rate of the encoder when no optimizer is given (the
   * paper: SGD, 0.05, momentum 0.9).
   * @default 1e-3
   */
  learningRate?: number;
  /**
   * Learning rate of the cluster head's Adam, which is re-created with the
   * head at every reclustering (the paper re-creates its optimizer too).
   * @default learningRate
   */
  headLearningRate?: number;
}

/** What {@link DeepCluster.recluster} reports. */
export interface ClusteringResult {
  /** Cluster of each clustered image. */
  assignments: Int32Array;
  /** Size of each cluster. */
  clusterSizes: Int32Array;
  /** k-means inertia (sum of squared distances, in the whitened, normalised space). */
  inertia: number;
  /** Clusters used this round (fewer than numClusters while the memory is small). */
  k: number;
}

/**
 * DeepCluster (Caron, Bojanowski, Joulin & Douze, "Deep Clustering for
 * Unsupervised Learning of Visual Features", ECCV 2018): alternate between
 * clustering the network's features and training the network to predict the
 * clusters. Each round: extract the features of the training images,
 * PCA-reduce and whiten them, L2-normalise, run k-means, reassign empty
 * clusters (by splitting large ones, as faiss does), re-initialise the
 * classification head, and train on the cluster assignments as pseudo-labels,
 * sampling images uniformly over the clusters so large clusters do not
 * dominate (the paper's guard against the trivial solution).
 *
 * `step(images)` fits the contract of every method: the incoming batch joins
 * a memory of the most recent `memorySize` images (the paper clusters the
 * whole dataset once per epoch); a round starts every `clusterEvery` steps
 * (and earlier, whenever the memory has doubled since the last clustering,
 * with k ≤ memory / 8 while it is small); the step then trains on a batch of
 * the same size drawn from the clustered memory, uniformly over its
 * non-empty clusters, augmented (random resized crops and flips, as the
 * paper trains). For your own loop over a fixed dataset, call
 * {@link DeepCluster.recluster} with the whole set each epoch and
 * {@link DeepCluster.trainStep} with batches and their pseudo-labels.
 *
 * Not in this version: the paper's Sobel preprocessing (for colour images)
 * and its MLP between the convolutions and the head (use an encoder that
 * includes one).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { convEncoder, DeepCluster } from 'selfsup';
 *
 * const encoder = convEncoder({ inputShape: [8, 8, 1], channels: [4, 8], seed: 0 });
 * const task = new DeepCluster(encoder, { numClusters: 4, pcaDim: 4, memorySize: 32, seed: 1 });
 * const images = tf.randomUniform([16, 8, 8, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
 * console.log(task.step(images), task.lastClustering?.k);
 * task.dispose();
 * ```
 */
export class DeepCluster extends BasePretextTask {
  readonly name = 'DeepCluster';
  /** `[H, W, C]` of the images. */
  readonly imageShape: [number, number, number];
  /** Number of clusters. */
  readonly numClusters: number;
  /** PCA dimension. */
  readonly pcaDim: number;
  /** Images kept for clustering. */
  readonly memorySize: number;
  /** Steps between reclusterings. */
  readonly clusterEvery: number;
  /** The cluster classifier. */
  readonly head: tfl.LayersModel;
  /** The augmentation of the training batches (null: none). */
  readonly augment: Transform | null;
  /** The last clustering (null before the first). */
  lastClustering: ClusteringResult | null = null;
  private readonly kMeansIterations: number;
  private readonly headLearningRate: number;
  private headOptimizer: tf.Optimizer;
  private readonly ownsHead: boolean;
  private readonly rng: Rng;
  private readonly memory: Float32Array;
  private memoryCount = 0;
  private memoryPointer = 0;
  private clustered: tf.Tensor4D | null = null;
  private members: number[][] = [];
  private clusteredCount = 0;
  private stepsSinceClustering = 0;
  private ownSteps = 0;
  /** What a re-clustering replaced during the running step (null outside a step). */
  private retired: ({ dispose(): void } | null)[] | null = null;

  constructor(encoder: ImageEncoder, options: DeepClusterOptions = {}) {
    const fn = 'DeepCluster';
    assertEncoder(encoder, fn);
    assertKnownOptions(
      options,
      [
        'imageShape',
        'numClusters',
        'pcaDim',
        'memorySize',
        'clusterEvery',
        'kMeansIterations',
        'augment',
        'head',
        'learningRate',
        'headLearningRate',
        'optimizer',
        'seed',
        'onNonFinite',
      ],
      fn,
    );
    checkTaskOptions(options, fn, ['head']);
    const learningRate = checkTrainingOptions(options, fn, 1e-3);
    const imageShape = resolveImageShape(encoder, options.imageShape, fn);
    const featureDim = encoderFeatureDim(encoder, imageShape);
    const { numClusters = 100, pcaDim = Math.min(32, featureDim), memorySize = 4096, clusterEvery = 50, kMeansIterations = 20 } = options;
    const { headLearningRate = learningRate } = options;
    assertInteger(numClusters, fn, 'options.numClusters', { min: 2 });
    assertInteger(pcaDim, fn, 'options.pcaDim', { min: 1, max: featureDim });
    assertInteger(memorySize, fn, 'options.memorySize', { min: numClusters });
    assertInteger(clusterEvery, fn, 'options.clusterEvery', { min: 1 });
    assertInteger(kMeansIterations, fn, 'options.kMeansIterations', { min: 1, max: MAX_KMEANS_ITERATIONS });
    assertPositive(headLearningRate, fn, 'options.headLearningRate');
    if (options.augment != null && typeof (options.augment as Transform).run !== 'function') {
      throw new InvalidArgumentError(fn, 'options.augment', 'be a Transform (e.g. compose([...])) or null', describeValue(options.augment));
    }
    // The image memory (JS) and its tensor copy for clustering, and the k-means distances.
    assertMemoryFits(fn, 'options.memorySize', [
      { shape: [memorySize, ...imageShape], count: 3 },
      [memorySize, numClusters],
    ]);
    super(encoder, options.optimizer, learningRate, { onNonFinite: options.onNonFinite });
    this.rng = createRng(options.seed, fn, 'options.seed');
    this.imageShape = imageShape;
    this.numClusters = numClusters;
    this.pcaDim = pcaDim;
    this.memorySize = memorySize;
    this.clusterEvery = clusterEvery;
    this.kMeansIterations = kMeansIterations;
    this.headLearningRate = headLearningRate;
    this.ownsHead = options.head === undefined;
    this.head = options.head ?? classificationHead({ inputDim: featureDim, numClasses: numClusters, seed: this.rng.nextUint32() });
    this.headOptimizer = tf.train.adam(headLearningRate);
    this.augment =
      options.augment === undefined ? compose([new RandomResizedCrop({ scale: [0.3, 1] }), new RandomHorizontalFlip()]) : options.augment;
    this.memory = new Float32Array(memorySize * imageShape[0] * imageShape[1] * imageShape[2]);
  }

  override get steps(): number {
    return this.ownSteps;
  }

  /** The variables a step updates: the encoder's, then the head's. */
  get trainableVariables(): tf.Variable[] {
    return [...trainableVariables(this.encoder), ...trainableVariables(this.head)];
  }

  /**
   * The clustering features of `images`: encoder features (inference mode),
   * PCA-reduced to `pcaDim` and whitened with the statistics of these
   * images, then L2-normalised, `[N, pcaDim]`.
   */
  clusteringFeatures(images: tf.Tensor4D): tf.Tensor2D {
    const fn = 'DeepCluster.clusteringFeatures';
    assertImageBatch(images, this.imageShape, fn, 'images', 2);
    return this.whitenedFeatures(images, (reason) => {
      throw new ValueRangeError(fn, 'images', "give finite features (the encoder's weights may hold NaN or infinity)", reason);
    });
  }

  /**
   * One DeepCluster round on `images` (your dataset, or a large sample of it):
   * features → PCA + whitening → L2 normalisation → k-means (empty clusters
   * split) → the head is re-initialised with a fresh optimizer. Returns the
   * assignments (the pseudo-labels for {@link DeepCluster.trainStep}).
   */
  recluster(images: tf.Tensor4D): ClusteringResult {
    assertImageBatch(images, this.imageShape, 'DeepCluster.recluster', 'images', 2);
    return this.clusterAndReset(images, Math.min(this.numClusters, images.shape[0]), (reason) => {
      throw new ValueRangeError('DeepCluster.recluster', 'images', "give finite features (the encoder's weights may hold NaN or infinity)", reason);
    });
  }

  /**
   * One optimizer step on `images` with their int32 `pseudoLabels` `[B]`
   * (from {@link DeepCluster.recluster}); returns the loss. The encoder and
   * the head take their own optimizers' steps. `images` are used as given
   * (augment them yourself, as `step` does with `augment`).
   */
  trainStep(images: tf.Tensor4D, pseudoLabels: tf.Tensor1D): number {
    const fn = 'DeepCluster.trainStep';
    assertImageBatch(images, this.imageShape, fn);
    if (pseudoLabels?.rank !== 1 || pseudoLabels.dtype !== 'int32' || pseudoLabels.shape[0] !== images.shape[0]) {
      throw new InvalidArgumentError(fn, 'pseudoLabels', `be an int32 tensor [${images.shape[0]}]`, String(pseudoLabels?.shape));
    }
    return this.train(images, pseudoLabels);
  }

  protected runStep(images: tf.Tensor4D): number {
    this.checkBatch(images, this.imageShape);
    this.remember(images);
    const due =
      this.clustered === null ||
      this.stepsSinceClustering >= this.clusterEvery ||
      (this.clusteredCount < this.memorySize && this.memoryCount >= 2 * this.clusteredCount);
    if (due) {
      const memory = this.memoryImages();
      try {
        this.clusterAndReset(memory, Math.max(2, Math.min(this.numClusters, Math.floor(this.memoryCount / 8))), (reason) =>
          this.refuse(`${this.name}.step`, NaN, reason),
        );
        this.retire(this.clustered);
        this.clustered = tf.keep(tf.clone(memory));
      } finally {
        memory.dispose();
      }
    }
    const { batch, labels } = this.sampleBalanced(images.shape[0]);
    const views = this.augment === null ? batch : this.augment.run(batch, { seed: this.rng }).images;
    try {
      return this.train(views, labels);
    } finally {
      tf.dispose([batch, views, labels]);
    }
  }

  /**
   * The counters, the clustering and the head's optimizer are put back with
   * the variables when a step is refused (what a re-clustering in that step
   * replaced is disposed only when the step commits). The images the step
   * wrote into the clustering memory stay (data, not state: the next step
   * writes over them).
   */
  protected override saveState(): StepState {
    const base = super.saveState();
    const { memoryCount, memoryPointer, stepsSinceClustering, ownSteps, lastClustering, members, clusteredCount, clustered, headOptimizer } = this;
    this.retired = [];
    return {
      restore: () => {
        base.restore();
        Object.assign(this, { memoryCount, memoryPointer, stepsSinceClustering, ownSteps, lastClustering, members, clusteredCount });
        if (this.clustered !== clustered) this.clustered?.dispose();
        if (this.headOptimizer !== headOptimizer) this.headOptimizer.dispose();
        this.clustered = clustered;
        this.headOptimizer = headOptimizer;
        this.retired = null;
      },
      commit: () => {
        for (const r of this.retired ?? []) r?.dispose();
        this.retired = null;
      },
    };
  }

  /** Disposes what a re-clustering replaced: at once, or when the running step commits. */
  private retire(replaced: { dispose(): void } | null): void {
    if (this.retired !== null) this.retired.push(replaced);
    else replaced?.dispose();
  }

  /** Checkpoints also carry the image memory's fill, the clustering the head is trained on and when it was made. */
  protected override stateFields(): string[] {
    return [
      ...super.stateFields(),
      ...['ownSteps', 'stepsSinceClustering', 'memoryCount', 'memoryPointer'],
      ...['clustered', 'members', 'clusteredCount', 'lastClustering'],
    ];
  }

  override dispose(): void {
    if (this.isDisposed) return;
    super.dispose();
    this.headOptimizer.dispose();
    this.clustered?.dispose();
    this.clustered = null;
    if (this.ownsHead) this.head.dispose();
  }

  private train(images: tf.Tensor4D, labels: tf.Tensor1D): number {
    // One guarded update: the encoder and the head take their own optimizers' steps.
    const loss = this.minimizeGroups(
      () =>
        tf.tidy(() =>
          crossEntropy(this.head.apply(encodeImages(this.encoder, images, true), { training: true }) as tf.Tensor2D, labels),
        ),
      [
        [this.optimizer, trainableVariables(this.encoder)],
        [this.headOptimizer, trainableVariables(this.head)],
      ],
    );
    this.ownSteps++;
    this.stepsSinceClustering++;
    return loss;
  }

  private remember(images: tf.Tensor4D): void {
    const data = images.dataSync() as Float32Array;
    const size = data.length / images.shape[0];
    for (let i = 0; i < images.shape[0]; i++) {
      this.memory.set(data.subarray(i * size, (i + 1) * size), this.memoryPointer * size);
      this.memoryPointer = (this.memoryPointer + 1) % this.memorySize;
      this.memoryCount = Math.min(this.memoryCount + 1, this.memorySize);
    }
  }

  private memoryImages(): tf.Tensor4D {
    const size = this.imageShape[0] * this.imageShape[1] * this.imageShape[2];
    return tf.tensor4d(this.memory.subarray(0, this.memoryCount * size), [this.memoryCount, ...this.imageShape]);
  }

  /** PCA-whitened, L2-normalised features of `images`; calls `nonFinite` (which throws) when the features are not finite. */
  private whitenedFeatures(images: tf.Tensor4D, nonFinite: (reason: string) => never): tf.Tensor2D {
    const features = embedImages(this.encoder, images, { batchSize: 512 });
    try {
      const n = features.shape[0];
      const f = features.shape[1];
      const centered = tf.tidy(() => tf.sub(features, tf.mean(features, 0, true)));
      const cov = tf.tidy(() => tf.div(tf.matMul(tf.transpose(centered), centered), Math.max(n - 1, 1)));
      const covData = cov.dataSync();
      cov.dispose();
      // A NaN or infinite feature makes the covariance non-finite: read here anyway, so the check is free.
      if (!covData.every(Number.isFinite)) {
        centered.dispose();
        nonFinite("the encoder's features of the clustering memory are not finite");
      }
      const { values, vectors } = symmetricEigen(covData, f, true);
      const d = Math.min(this.pcaDim, n);
      // Top-d eigenvectors (values ascend), each scaled by 1/√(λ + ε): PCA whitening as faiss' PCAMatrix(eigen_power = −0.5).
      const projection = new Float32Array(f * d);
      for (let k = 0; k < d; k++) {
        const col = f - 1 - k;
        const scale = 1 / Math.sqrt(Math.max(values[col]!, 0) + 1e-5);
        for (let i = 0; i < f; i++) projection[i * d + k] = vectors![i * f + col]! * scale;
      }
      return tf.tidy(() => {
        const reduced = tf.matMul(centered, tf.tensor2d(projection, [f, d]));
        centered.dispose();
        return normalizeLastAxis(reduced) as tf.Tensor2D;
      });
    } finally {
      features.dispose();
    }
  }

  private clusterAndReset(images: tf.Tensor4D, k: number, nonFinite: (reason: string) => never): ClusteringResult {
    const x = this.whitenedFeatures(images, nonFinite);
    const result = kMeans(x, { k, iterations: this.kMeansIterations, seed: this.rng.nextUint32(), emptyClusters: 'split' });
    const assignments = Int32Array.from(result.assignments.dataSync());
    tf.dispose([x, result.centroids, result.assignments]);
    const clusterSizes = new Int32Array(k);
    this.members = Array.from({ length: k }, () => []);
    assignments.forEach((c, i) => {
      clusterSizes[c]!++;
      this.members[c]!.push(i);
    });
    this.clusteredCount = images.shape[0];
    this.stepsSinceClustering = 0;
    this.resetHead();
    this.lastClustering = { assignments, clusterSizes, inertia: result.inertia, k };
    return this.lastClustering;
  }

  /** Fresh weights for the head (He-normal hidden layers, N(0, 0.01²) output) and a fresh head optimizer. */
  private resetHead(): void {
    const dense = this.head.layers.filter((l) => l.weights.length > 0 && l.getClassName() === 'Dense');
    dense.forEach((layer, i) => initKernelLayer(layer, this.rng, i === dense.length - 1 ? 'linearProbe' : 'he'));
    this.retire(this.headOptimizer);
    this.headOptimizer = tf.train.adam(this.headLearningRate);
  }

  /** A batch drawn uniformly over the non-empty clusters, then uniformly within the cluster (DeepCluster's sampler). */
  private sampleBalanced(size: number): { batch: tf.Tensor4D; labels: tf.Tensor1D } {
    const clusters = this.members.map((m, c) => [c, m] as const).filter(([, m]) => m.length > 0);
    const ids = new Int32Array(size);
    const labels = new Int32Array(size);
    for (let i = 0; i < size; i++) {
      const [c, m] = clusters[this.rng.int(0, clusters.length)]!;
      ids[i] = m[this.rng.int(0, m.length)]!;
      labels[i] = c;
    }
    return tf.tidy(() => ({
      batch: tf.gather(this.clustered!, tf.tensor1d(ids, 'int32')) as tf.Tensor4D,
      labels: tf.tensor1d(labels, 'int32'),
    }));
  }
}
