// The course's Fashion-MNIST CNN: conv 32 → conv 32 → max pool → dense 128 → dense 10 (ReLU),
// trained with Adam (lr 1e-3, batch 64) for one epoch (--epochs N for more) on the full data set
// when this machine has it, else on the subset shipped with dendrite.
import { trainCnn } from './_cnn_run.mjs';
import { courseCnn } from './_fashion.mjs';

await trainCnn('fashion_cnn', courseCnn);
