import { runFamily } from './harness';

runFamily('reduce');
