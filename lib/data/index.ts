// dt.data: datasets, the DataLoader, readers and transforms.
export { Dataset, TensorDataset, Subset, randomSplit } from './dataset';
export { DataLoader, defaultCollate, disposeBatch, type DataLoaderOptions, type Collate } from './dataloader';
export { Generator, getRngState, setRngState, type RngState } from './generator';
export { parseIdx, readIdx, readIdxSync, encodeIdx, parseCsv, readCsv, readCsvSync, type CsvOptions, type CsvTable } from './readers';
export { decodeImage, readImage, readImageSync, type ImageMode, type ImageOptions, type ImageFolderOptions } from './images';
import { ImageFolder } from './images';
import * as datasetFns from './datasets';
import * as transformFns from './transforms';
export const datasets = {
  fashionMnist: datasetFns.fashionMnist,
  mnist: datasetFns.mnist,
  csvDataset: datasetFns.csvDataset,
  MnistDataset: datasetFns.MnistDataset,
  ImageFolder,
};
export const transforms = transformFns;
export type { Transform, FillMode, Interpolation } from './transforms';
export type { MnistOptions, DataSource, CsvDatasetOptions } from './datasets';
