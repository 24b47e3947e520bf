import { itemRefreshHandler } from '../main';

/** Requests queue → RefreshItem ('request'). */
export const handler = itemRefreshHandler('request');
