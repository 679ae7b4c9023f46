// Device names and whether the CUDA device can be used. The one place that knows a build may
// lack the CUDA backend or a machine a GPU: creation ops and `to()` ask here before they put a
// tensor on 'cuda', so the answer is an ERR_DEVICE that says why, never a native failure.
import { describe, fail } from './errors';
import { native } from './native';
import type { Device } from './storage';

export interface CudaInfo {
  compiled: boolean;
  deviceCount: number;
  reason: string;
  /** Device 0's name ('' without one); "dendrite CUDA emulator (CPU)" in the emulated build. */
  deviceName?: string;
}

let info: CudaInfo | null = null;

/** What the addon says about CUDA (asked once: the driver's answer does not change). */
export function cudaInfo(): CudaInfo {
  if (info === null) info = native.cudaInfo();
  return info;
}

export function cudaAvailable(): boolean {
  const i = cudaInfo();
  return i.compiled && i.deviceCount > 0;
}

/** Throws ERR_DEVICE naming `op` and the reason when there is no usable CUDA device. */
export function requireCuda(op: string, asked = "'cuda'"): void {
  const i = cudaInfo();
  if (!i.compiled)
    fail('ERR_DEVICE', op, "device 'cpu' (this build has no CUDA backend; dt.cuda.isAvailable() is false)", asked);
  if (i.deviceCount === 0) fail('ERR_DEVICE', op, `a CUDA device (dt.cuda.isAvailable() is false: ${i.reason})`, asked);
}

/** 'cpu', 'cuda' or 'cuda:0' (one device for now) to a Device; CUDA only when usable. */
export function parseDevice(device: unknown, op: string): Device {
  if (device === undefined || device === 'cpu') return 'cpu';
  if (device === 'cuda' || device === 'cuda:0') {
    requireCuda(op, `'${device}'`);
    return 'cuda';
  }
  if (typeof device === 'string' && /^cuda:\d+$/.test(device)) {
    requireCuda(op, `'${device}'`);
    fail('ERR_DEVICE', op, "'cuda' or 'cuda:0' (one CUDA device is supported)", `'${device}'`);
  }
  return fail('ERR_DEVICE', op, "device 'cpu' or 'cuda'", describe(device));
}

export function isDeviceName(v: unknown): boolean {
  return v === 'cpu' || (typeof v === 'string' && /^cuda(:\d+)?$/.test(v));
}
