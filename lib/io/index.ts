// dt.save / dt.load (and the Sync forms) in the safetensors format; dt.io.readHeader inspects a file.
export { save, load, saveSync, loadSync, readHeader, type SaveOptions, type Metadata, type Header, type TensorInfo } from './safetensors';
