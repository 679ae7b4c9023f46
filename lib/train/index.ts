// dt.fit / dt.evaluate / dt.predict, dt.metrics, dt.callbacks, History.
export { fit, evaluate, predict, resolveLoss, type FitOptions, type EvaluateOptions, type LossFn, type LossSpec, type Model, type Optimizer } from './fit';
export { History } from './history';
export type { PlotOptions } from './plot';
import * as metricFns from './metrics';
import * as callbackFns from './callbacks';
export const metrics = metricFns;
export const callbacks = callbackFns;
export type { Metric, MetricSpec } from './metrics';
export type { Callback, TrainContext } from './callbacks';
