// dt.nn: modules, layers and initialisers. Layer families add their modules here.
export { Module, Parameter, isParameter } from './module';
export { Sequential, ModuleList, ModuleDict } from './containers';
export * from './layers';
export * from './rnn';
export * from './embedding';
export * from './attention';
import * as initFns from './init';
export const init = initFns;
