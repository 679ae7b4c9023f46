// dt.nn: modules, layers and initialisers. Layer families add their modules here.
export { Module, Parameter, isParameter } from './module';
export { Sequential, ModuleList, ModuleDict } from './containers';
export * from './layers';
export * from './roi';
export * from './rnn';
export * from './embedding';
export * from './attention';
import * as initFns from './init';
export const init = initFns;
export * from './loss';
import * as utilsFns from './utils';
export const utils = utilsFns;
export * from './conv';
export * from './pooling';
export * from './norm';
export * from './dropout';

// dt.summary's per-layer arithmetic for the families above.
import './summary_rules';
