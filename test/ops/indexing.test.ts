import { runFamily } from './harness';

runFamily('indexing');
