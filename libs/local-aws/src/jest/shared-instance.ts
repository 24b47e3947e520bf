import type { LocalAws } from '../backend';

// Symbol.for, not a module-level variable: Jest may load setup and teardown through separate module
// registries, and with several projects each runs its own copy; the global object is what they share.
const KEY = Symbol.for('@alma-cache/local-aws/jest-instance');

type Holder = { [KEY]?: LocalAws };

export function sharedInstance(): LocalAws | undefined {
  return (globalThis as Holder)[KEY];
}

export function setSharedInstance(instance: LocalAws | undefined): void {
  (globalThis as Holder)[KEY] = instance;
}
