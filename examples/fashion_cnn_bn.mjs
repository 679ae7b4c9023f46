// The course's CNN made stronger with batch normalisation: Conv-BN-ReLU twice, max pool, then
// Dense-BN-ReLU and the classifier. Batch norm lets it take a larger step size (Adam, lr 3e-3)
// and it usually ends the first epoch ahead of the plain CNN (npm run example -- fashion_cnn).
import { trainCnn } from './_cnn_run.mjs';
import { courseCnnBn } from './_fashion.mjs';

await trainCnn('fashion_cnn_bn', courseCnnBn, { lr: 3e-3 });
