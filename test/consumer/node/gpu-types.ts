// With the DOM library (TypeScript 7's has WebGPU; older ones need @webgpu/types), the GPU objects
// the library hands out are fully typed.
import * as rnn from 'webgpu-rnn';

export async function bufferSize(): Promise<number> {
  const { device } = await rnn.getGpu();
  const buffer: GPUBuffer = device.createBuffer({ size: 16, usage: 0x80 /* STORAGE */ });
  return buffer.size + device.limits.maxStorageBufferBindingSize;
}
