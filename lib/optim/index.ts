// dt.optim: optimizers (fused native updates) and dt.optim.lrScheduler.
export { Optimizer, type ParamGroup, type ParamGroupInput, type Params, type OptimizerStateDict } from './optimizer';
export { SGD, type SGDOptions } from './sgd';
export { Adam, AdamW, type AdamOptions } from './adam';
export { Adamax, type AdamaxOptions } from './adamax';
export { NAdam, type NAdamOptions } from './nadam';
export { RMSprop, type RMSpropOptions } from './rmsprop';
export { Adagrad, type AdagradOptions } from './adagrad';
import * as schedulers from './lr_scheduler';
export const lrScheduler = schedulers;
