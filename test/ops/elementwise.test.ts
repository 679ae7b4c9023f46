import { runFamily } from './harness';

runFamily('elementwise');
