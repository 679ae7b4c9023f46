import { runFamily } from './harness';

runFamily('creation');
