import sodium from 'libsodium-wrappers';

let loading: Promise<typeof sodium> | undefined;

/** Resolves libsodium once its WASM module is ready; every crypto entry point awaits it. */
export function loadSodium(): Promise<typeof sodium> {
  loading ??= sodium.ready.then(() => sodium);
  return loading;
}
