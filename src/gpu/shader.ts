/**
 * The only place that turns WGSL into pipelines. Bindings (indices, read-only or read-write),
 * uniform field offsets and workgroup sizes come from reflecting the WGSL (wgsl_reflect);
 * TypeScript passes bindings and params by their WGSL names, and a missing or extra name throws.
 * A module is a root file plus what it includes (`//! include rnn-common.wgsl` lines, resolved
 * from the shader library, each file once), after a preamble every module gets: the generated
 * constants (src/gpu/wgsl-constants.ts) and shaders/prelude.wgsl. Compile errors name the
 * file and line the code was written in.
 */
import { WgslReflect, ResourceType, type VariableInfo } from 'wgsl_reflect';

export interface ShaderFile {
  /** File name, e.g. 'matmul.wgsl' (used in error messages). */
  name: string;
  code: string;
}

export type ParamValues = Record<string, number | boolean>;

/** A storage binding: a whole buffer, or a 256-byte aligned range of one. */
export type BindingResource = GPUBuffer | { buffer: GPUBuffer; offset?: number; size?: number };

interface ParamField {
  offset: number;
  type: 'u32' | 'i32' | 'f32';
}

interface ResourceInfo {
  name: string;
  binding: number;
  kind: 'uniform' | 'storage' | 'read-only-storage';
}

/** Thrown for WGSL compile errors and for binding/param name mismatches. */
export class ShaderError extends Error {
  /** 'ShaderError'. */
  override name = 'ShaderError';
}

/** A compute entry point: pipeline, reflected layout, param offsets and workgroup size. */
export class Kernel {
  /** `file.wgsl:entryPoint`, used in every error message. */
  readonly id: string;
  readonly workgroupSize: readonly [number, number, number];
  readonly resources: readonly ResourceInfo[];
  /** Uniform struct variable (if the entry point uses one), by its WGSL name. */
  readonly uniformName: string | null;
  readonly paramFields: ReadonlyMap<string, ParamField>;
  readonly paramBytes: number;

  constructor(
    readonly device: GPUDevice,
    readonly pipeline: GPUComputePipeline,
    readonly layout: GPUBindGroupLayout,
    id: string,
    workgroupSize: [number, number, number],
    resources: ResourceInfo[],
    uniform: { name: string; fields: Map<string, ParamField>; size: number } | null,
    /**
     * The uniform is bound with a dynamic offset: one bind group serves many dispatches that differ
     * only in their params (a time loop's steps; Program.paramSlots).
     */
    readonly dynamicParams = false,
  ) {
    this.id = id;
    this.workgroupSize = workgroupSize;
    this.resources = resources;
    this.uniformName = uniform?.name ?? null;
    this.paramFields = uniform?.fields ?? new Map();
    this.paramBytes = uniform?.size ?? 0;
  }

  /** Invocations per workgroup (product of the workgroup size). */
  get invocations(): number {
    return this.workgroupSize[0] * this.workgroupSize[1] * this.workgroupSize[2];
  }

  /**
   * Encodes `values` into the uniform struct's bytes at the reflected offsets.
   * Every field must be given exactly once; unknown names throw.
   */
  encodeParams(values: ParamValues): ArrayBuffer {
    if (!this.uniformName) {
      if (Object.keys(values).length) throw new ShaderError(`${this.id} takes no params, got: ${Object.keys(values).join(', ')}`);
      return new ArrayBuffer(0);
    }
    const given = Object.keys(values);
    const missing = [...this.paramFields.keys()].filter((k) => !(k in values));
    const extra = given.filter((k) => !this.paramFields.has(k));
    if (missing.length || extra.length) {
      throw new ShaderError(
        `${this.id}: params mismatch —` +
          (missing.length ? ` missing: ${missing.join(', ')}.` : '') +
          (extra.length ? ` unknown: ${extra.join(', ')}.` : '') +
          ` Expected: ${[...this.paramFields.keys()].join(', ')}.`,
      );
    }
    const buf = new ArrayBuffer(Math.max(16, Math.ceil(this.paramBytes / 16) * 16));
    const view = new DataView(buf);
    for (const [k, f] of this.paramFields) {
      const raw = values[k]!;
      const v = typeof raw === 'boolean' ? (raw ? 1 : 0) : raw;
      if (!Number.isFinite(v)) throw new ShaderError(`${this.id}: param ${k} is not finite (${v})`);
      if (f.type === 'f32') view.setFloat32(f.offset, v, true);
      else if (f.type === 'i32') view.setInt32(f.offset, v, true);
      else {
        if (v < 0 || v > 0xffffffff || !Number.isInteger(v)) throw new ShaderError(`${this.id}: param ${k} must be a u32, got ${v}`);
        view.setUint32(f.offset, v, true);
      }
    }
    return buf;
  }

  /**
   * Creates a bind group from buffers given by WGSL variable name (the uniform included).
   * Names must match the entry point's resources exactly.
   */
  bindGroup(bindings: Record<string, BindingResource>): GPUBindGroup {
    const names = this.resources.map((r) => r.name);
    const missing = names.filter((n) => !(n in bindings));
    const extra = Object.keys(bindings).filter((n) => !names.includes(n));
    if (missing.length || extra.length) {
      throw new ShaderError(
        `${this.id}: bindings mismatch —` +
          (missing.length ? ` missing: ${missing.join(', ')}.` : '') +
          (extra.length ? ` unknown: ${extra.join(', ')}.` : '') +
          ` Expected: ${names.join(', ')}.`,
      );
    }
    return this.device.createBindGroup({
      label: this.id,
      layout: this.layout,
      entries: this.resources.map((r) => {
        const b = bindings[r.name]!;
        const resource: GPUBufferBinding = 'buffer' in b ? b : { buffer: b };
        return { binding: r.binding, resource };
      }),
    });
  }

  /**
   * The subset of `bindings` this entry point declares (callers may keep one set of buffers for
   * several kernels); a declared storage binding that is missing throws, naming it.
   */
  ownBindings<T>(bindings: Readonly<Record<string, T>>): Record<string, T> {
    const out: Record<string, T> = {};
    for (const r of this.resources) {
      if (r.kind === 'uniform') continue;
      const t = bindings[r.name];
      if (t === undefined) throw new ShaderError(`${this.id}: no buffer for binding '${r.name}' (given: ${Object.keys(bindings).join(', ')})`);
      out[r.name] = t;
    }
    return out;
  }

  /** Workgroup counts for `n` invocations along x (split over y when over the per-dimension limit). */
  groupsFor(n: number): [number, number, number] {
    const groups = Math.max(1, Math.ceil(n / this.invocations));
    const max = this.device.limits.maxComputeWorkgroupsPerDimension;
    if (groups <= max) return [groups, 1, 1];
    const y = Math.ceil(groups / max);
    if (y > max) throw new ShaderError(`${this.id}: ${n} invocations exceed the device's dispatch limits`);
    return [max, y, 1];
  }
}

/** How a kernel binds its resources. */
export interface KernelOptions {
  /** Bind the uniform with a dynamic offset (see Kernel.dynamicParams). Default false. */
  dynamicParams?: boolean;
}

interface ParsedFile {
  module: GPUShaderModule;
  reflect: WgslReflect;
}

/** Compiles shader files once per device and builds kernels (pipelines cached by id + constants). */
export class ShaderCache {
  private files = new Map<string, Promise<ParsedFile>>();
  private kernels = new Map<string, Promise<Kernel>>();

  /**
   * `library`: every shader file by name (what `//! include` lines may name); `preamble`: files
   * put in front of every module (the generated constants, the prelude).
   */
  constructor(
    readonly device: GPUDevice,
    private readonly library: ReadonlyMap<string, ShaderFile> = new Map(),
    private readonly preamble: readonly ShaderFile[] = [],
  ) {}

  /**
   * The kernel for `entryPoint` of `file`, compiled on first use; `constants` set the file's
   * `override` declarations (one pipeline per distinct set). A name that is not an override of
   * the file throws, naming it; an override without a default that the entry point needs and
   * `constants` lacks fails pipeline creation.
   */
  kernel(file: ShaderFile, entryPoint: string, constants: Record<string, number> = {}, opts: KernelOptions = {}): Promise<Kernel> {
    const names = Object.keys(constants).sort();
    const dynamic = opts.dynamicParams === true;
    const key = `${file.name}:${entryPoint}:${names.map((n) => `${n}=${constants[n]}`).join(',')}${dynamic ? ':dynamic' : ''}`;
    let k = this.kernels.get(key);
    if (!k) {
      k = this.parse(file).then(({ reflect }) => {
        const declared = new Set(reflect.overrides.map((o) => o.name));
        const unknown = names.filter((n) => !declared.has(n));
        if (unknown.length) {
          throw new ShaderError(`${file.name}:${entryPoint}: no override named ${unknown.join(', ')} (declared: ${[...declared].join(', ') || 'none'})`);
        }
        return this.build(file, entryPoint, constants, dynamic);
      });
      this.kernels.set(key, k);
      k.catch(() => this.kernels.delete(key));
    }
    return k;
  }

  private parse(file: ShaderFile): Promise<ParsedFile> {
    let p = this.files.get(file.name);
    if (!p) {
      p = compileFile(this.device, file, this.library, this.preamble);
      this.files.set(file.name, p);
      p.catch(() => this.files.delete(file.name));
    }
    return p;
  }

  private async build(file: ShaderFile, entryPoint: string, constants: Record<string, number>, dynamic: boolean): Promise<Kernel> {
    const { module, reflect } = await this.parse(file);
    const id = `${file.name}:${entryPoint}`;
    const entry = reflect.entry.compute.find((e) => e.name === entryPoint);
    if (!entry) {
      throw new ShaderError(`${file.name} has no compute entry point '${entryPoint}' (has: ${reflect.entry.compute.map((e) => e.name).join(', ')})`);
    }
    const resources: ResourceInfo[] = [];
    let uniform: { name: string; fields: Map<string, ParamField>; size: number } | null = null;
    for (const r of [...entry.resources].sort((a, b) => a.binding - b.binding)) {
      if (r.group !== 0) throw new ShaderError(`${id}: only @group(0) is supported (${r.name} is in group ${r.group})`);
      if (r.resourceType === ResourceType.Uniform) {
        if (uniform) throw new ShaderError(`${id}: at most one uniform struct per entry point`);
        uniform = { name: r.name, fields: reflectFields(id, r), size: r.size };
        resources.push({ name: r.name, binding: r.binding, kind: 'uniform' });
      } else if (r.resourceType === ResourceType.Storage) {
        resources.push({ name: r.name, binding: r.binding, kind: r.access === 'read' ? 'read-only-storage' : 'storage' });
      } else {
        throw new ShaderError(`${id}: unsupported resource ${r.name}`);
      }
    }
    const reflected = entry.workgroupSize;
    if (!reflected) throw new ShaderError(`${id}: workgroup size could not be reflected (use literal sizes or overrides)`);
    // wgsl_reflect gives an override's default: a size set through `constants` replaces it.
    const sizeAttr = entry.attributes?.find((a) => a.name === 'workgroup_size')?.value;
    const dims = (Array.isArray(sizeAttr) ? sizeAttr : [sizeAttr]).map((d) => String(d ?? '').trim());
    const ws = reflected.map((n, i) => constants[dims[i] ?? ''] ?? n) as [number, number, number];
    const device = this.device;
    const lim = device.limits;
    if (ws[0] * ws[1] * ws[2] > lim.maxComputeInvocationsPerWorkgroup) {
      throw new ShaderError(`${id}: workgroup size ${ws.join('x')} exceeds the device limit ${lim.maxComputeInvocationsPerWorkgroup}`);
    }
    const storageCount = resources.filter((r) => r.kind !== 'uniform').length;
    if (storageCount > lim.maxStorageBuffersPerShaderStage) {
      throw new ShaderError(`${id}: ${storageCount} storage buffers exceed the device limit ${lim.maxStorageBuffersPerShaderStage}`);
    }
    if (dynamic && !uniform) throw new ShaderError(`${id}: dynamic params need a uniform struct`);
    const layout = device.createBindGroupLayout({
      label: id,
      entries: resources.map((r) => ({
        binding: r.binding,
        visibility: GPUShaderStage.COMPUTE,
        buffer: { type: r.kind, ...(dynamic && r.kind === 'uniform' ? { hasDynamicOffset: true } : {}) },
      })),
    });
    device.pushErrorScope('validation');
    let pipeline: GPUComputePipeline;
    try {
      pipeline = await device.createComputePipelineAsync({
        label: id,
        layout: device.createPipelineLayout({ bindGroupLayouts: [layout] }),
        compute: { module, entryPoint, constants },
      });
    } catch (e) {
      await device.popErrorScope();
      throw new ShaderError(`${id}: pipeline creation failed: ${(e as Error).message}`);
    }
    const err = await device.popErrorScope();
    if (err) throw new ShaderError(`${id}: pipeline creation failed: ${err.message}`);
    return new Kernel(device, pipeline, layout, id, [ws[0], ws[1], ws[2]], resources, uniform, dynamic);
  }
}

function reflectFields(id: string, r: VariableInfo): Map<string, ParamField> {
  const fields = new Map<string, ParamField>();
  for (const m of r.members ?? []) {
    const t = m.type.name;
    if (t !== 'u32' && t !== 'i32' && t !== 'f32') {
      throw new ShaderError(`${id}: uniform field ${m.name} has type ${t}; only u32/i32/f32 scalars are supported`);
    }
    fields.set(m.name, { offset: m.offset, type: t });
  }
  return fields;
}

/** One file's place in a composed module (for mapping compile-error lines back to it). */
interface Segment {
  name: string;
  /** 1-based line of the module where the file starts. */
  first: number;
  lines: number;
}

const INCLUDE = /^\/\/! include ([\w.-]+)\s*$/gm;

/**
 * The module of `root`: the preamble, then every included file before the files that include it
 * (module-scope WGSL declarations may come in any order, so hoisting keeps each file contiguous
 * and its line numbers intact), then `root`. A missing file or an include cycle throws.
 */
export function composeModule(root: ShaderFile, library: ReadonlyMap<string, ShaderFile>, preamble: readonly ShaderFile[] = []): { code: string; segments: Segment[] } {
  const order: ShaderFile[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (f: ShaderFile, from: string | null): void => {
    const st = state.get(f.name);
    if (st === 'done') return;
    if (st === 'visiting') throw new ShaderError(`${from}: include cycle through ${f.name}`);
    state.set(f.name, 'visiting');
    for (const m of f.code.matchAll(INCLUDE)) {
      const dep = library.get(m[1]!);
      if (!dep) throw new ShaderError(`${f.name}: includes ${m[1]}, which is not a shader file (known: ${[...library.keys()].join(', ')})`);
      visit(dep, f.name);
    }
    state.set(f.name, 'done');
    order.push(f);
  };
  visit(root, null);
  const segments: Segment[] = [];
  let code = '';
  let line = 1;
  for (const f of [...preamble, ...order]) {
    const text = f.code.replace(/\s*$/, '\n');
    const lines = text.split('\n').length - 1;
    segments.push({ name: f.name, first: line, lines });
    code += text;
    line += lines;
  }
  return { code, segments };
}

/** `file:line:column` of a line of a composed module. */
function whereIs(segments: readonly Segment[], lineNum: number, linePos: number): string {
  const s = segments.find((g) => lineNum >= g.first && lineNum < g.first + g.lines);
  return s ? `${s.name}:${lineNum - s.first + 1}:${linePos}` : `line ${lineNum}:${linePos}`;
}

async function compileFile(device: GPUDevice, file: ShaderFile, library: ReadonlyMap<string, ShaderFile>, preamble: readonly ShaderFile[]): Promise<ParsedFile> {
  const { code, segments } = composeModule(file, library, preamble);
  let reflect: WgslReflect;
  try {
    reflect = new WgslReflect(code);
  } catch (e) {
    throw new ShaderError(`${file.name}: WGSL could not be parsed for reflection: ${(e as Error).message}`);
  }
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ label: file.name, code });
  const info = await module.getCompilationInfo();
  const scopeErr = await device.popErrorScope();
  const errors = info.messages.filter((m) => m.type === 'error');
  if (errors.length || scopeErr) {
    const lines = errors.map((m) => `${whereIs(segments, m.lineNum, m.linePos)}: ${m.message}`);
    if (!lines.length && scopeErr) lines.push(`${file.name}: ${scopeErr.message}`);
    throw new ShaderError(`WGSL compile error in ${file.name}:\n${lines.join('\n')}`);
  }
  return { module, reflect };
}
