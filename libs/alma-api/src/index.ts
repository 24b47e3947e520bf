// The public surface: exactly what other projects import. Test fakes and fixtures come from './testing' only;
// anything else is the library's own and its tests import it from the file that declares it.
export { AlmaHttpApi, type AlmaUsersPage } from './lib/alma-http-api';
export type { AlmaExchange, AlmaExchangeResult, AlmaExchangeTracer } from './lib/alma-http-api.options';
