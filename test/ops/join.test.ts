import { runFamily } from './harness';

runFamily('join');
