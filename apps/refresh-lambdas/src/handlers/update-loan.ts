import { itemRefreshHandler } from '../main';

/** Loans queue → RefreshItem ('loan'). */
export const handler = itemRefreshHandler('loan');
