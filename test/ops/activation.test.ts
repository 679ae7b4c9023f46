import { runFamily } from './harness';

runFamily('activation');
