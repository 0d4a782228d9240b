/**
 * DINOv2 on Fashion-MNIST: `npx tsx examples/dinov2.ts [--quick] [--backend=cpu]`.
 *
 * A tiny ViT is trained with DINOv2's three objectives — DINO on the class
 * token, iBOT on masked patch tokens and the KoLeo regulariser — then its
 * class-token features are probed next to the same ViT at initialisation.
 */
import { DINOv2, embedImages, grayscaleAugment, tinyVit, useBackend } from 'selfsup';
import { BACKEND, progress, QUICK } from './lib/cli.js';
import { batches, evaluate, fashionMnist, percent } from './lib/pretext.js';

await useBackend(BACKEND);
const { train, test, source } = fashionMnist(QUICK);
const vit = tinyVit({ imageSize: 28, channels: 1, patchSize: 7, dim: QUICK ? 32 : 64, depth: QUICK ? 2 : 4, heads: 4, seed: 0 });
const baseline = await evaluate((x) => embedImages(vit, x), train, test);

const steps = QUICK ? 3 : 200;
const dinov2 = new DINOv2(vit, {
  // Two global crops at the ViT's size (its input size is fixed: no local crops).
  crops: { global: { count: 2, size: 28, scale: [0.3, 1], transforms: grayscaleAugment({ crop: false }) } },
  outputDim: 256,
  hiddenDim: 256,
  bottleneckDim: 64,
  totalSteps: steps,
  seed: 1,
});
const next = batches(train.images, QUICK ? 32 : 128);
const bar = progress('DINOv2', steps);
for (let i = 0; i < steps; i++) {
  const batch = next();
  const loss = dinov2.step(batch); // DINO + iBOT + 0.1·KoLeo, one Adam step, centers, EMA teacher
  batch.dispose();
  bar.tick(`loss ${loss.toFixed(3)}`);
}
bar.done();

const learned = await evaluate((x) => dinov2.embed(x), train, test);
console.log(`${source}: linear probe ${percent(learned.linear)} (random init ${percent(baseline.linear)}), kNN ${percent(learned.knn)} (random init ${percent(baseline.knn)})`);
dinov2.dispose();
vit.dispose();
