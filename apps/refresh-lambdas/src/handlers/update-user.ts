import { userRefreshHandler } from '../main';

/** Users queue → RefreshUser. */
export const handler = userRefreshHandler();
