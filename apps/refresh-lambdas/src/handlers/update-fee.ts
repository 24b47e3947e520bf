import { itemRefreshHandler } from '../main';

/** Fees queue → RefreshItem ('fee'). */
export const handler = itemRefreshHandler('fee');
