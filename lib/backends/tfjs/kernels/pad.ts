// MirrorPad ('reflect' and 'symmetric'): per padded dim, one gather of rows by a precomputed
// index list (dendrite's indexSelect, a strided native copy), any rank and numeric dtype.
import type { KernelConfig } from '@tensorflow/tfjs-core';
import { tensor } from '../../../ops/creation';
import { indexSelect } from '../../../ops/indexing';
import { numericKernel, attr } from './common';

export const padKernels: KernelConfig[] = [
  numericKernel('MirrorPad', ({ inputs, backend, attrs }) => {
    const paddings = attr<Array<[number, number]>>(attrs, 'paddings');
    const symmetric = attr<string>(attrs, 'mode') === 'symmetric';
    let y = backend.viewOf(inputs.x);
    paddings.forEach(([before, after], d) => {
      if (before === 0 && after === 0) return;
      const n = y.shape[d];
      const idx: number[] = [];
      for (let i = -before; i < n + after; i++) {
        if (symmetric) idx.push(i < 0 ? -i - 1 : i >= n ? 2 * n - 1 - i : i);
        else idx.push(i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i);
      }
      y = indexSelect(y, d, tensor(idx, { dtype: 'int64' }));
    });
    return backend.makeOutput(y, y.shape, inputs.x.dtype);
  }),
];
