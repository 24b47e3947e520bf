import { setSharedInstance, sharedInstance } from './shared-instance';

/** Jest `globalTeardown`: stops what global-setup started. A no-op when called again (several projects). */
export default async function globalTeardown(): Promise<void> {
  const aws = sharedInstance();
  setSharedInstance(undefined);
  await aws?.stop();
}
