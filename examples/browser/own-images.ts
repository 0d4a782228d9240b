/**
 * Pretraining on a folder the user picks, in a browser: the code of the
 * "In a browser" section of docs/data.md. tests/browser/data.test.ts bundles
 * this module into a page and runs it in Chromium on a picked folder.
 */

// #region browser-folder
import { convEncoder, imageFiles, loadModel, saveModel, SimCLR, trainLoop, type SavableModel } from 'selfsup';

/** `files`: the FileList of `<input type="file" webkitdirectory multiple>` (subfolders become labels). */
export async function pretrainOnFolder(files: FileList, steps: number): Promise<{ classes: string[]; losses: number[]; model: SavableModel }> {
  const dataset = await imageFiles(files, { size: 32 }); // decoded by the browser; bad files skipped with a warning
  const encoder = convEncoder({ inputShape: [32, 32, 3], channels: [8, 16], seed: 0 });
  const simclr = new SimCLR(encoder, { seed: 1 });
  const { losses } = await trainLoop({
    steps,
    batches: dataset.batches({ batchSize: 8, seed: 0, epochs: Infinity }),
    step: (_, batch) => simclr.step(batch!.images),
    yieldEvery: 1, // let the page repaint between steps
  });
  await saveModel(encoder, 'indexeddb://my-encoder'); // or 'downloads://my-encoder' for model.json + weights files
  const model = await loadModel('indexeddb://my-encoder');
  simclr.dispose();
  encoder.dispose();
  dataset.dispose();
  return { classes: [...(dataset.classNames ?? [])], losses, model };
}
// #endregion browser-folder
