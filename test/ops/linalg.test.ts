import { runFamily } from './harness';

runFamily('linalg');
