import { runFamily } from './harness';

runFamily('shape');
