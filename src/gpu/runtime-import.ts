/**
 * Imports a Node built-in or package at run time (`webgpu`, `node:fs`, …) where no bundler sees
 * it. The specifier is a parameter: a literal `import('webgpu')` — even one written as
 * `const name = 'webgpu'; import(name)`, which bundlers' constant inlining turns back into a
 * literal — is resolved by a browser app's bundler (Vite's dev pre-bundling fails on it when Dawn
 * is not installed, and would otherwise try to serve Node modules to the page).
 */
export function importAtRunTime<T>(specifier: string): Promise<T> {
  return import(/* @vite-ignore */ specifier) as Promise<T>;
}
