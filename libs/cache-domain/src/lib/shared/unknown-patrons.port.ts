/**
 * The negative cache: patron ids Alma said it does not know, remembered for a few minutes
 * (`ExpiryPolicy.unknownPatronSeconds`), so that asking about them again costs no Alma call.
 *
 * @example
 * await unknownPatrons.remember('nobody', nowSeconds + 300);
 * await unknownPatrons.isUnknown('nobody', nowSeconds); // true for 300 s
 */
export interface UnknownPatrons {
  /** True while a remembered verdict has not expired (judged by its time: TTL deletes late). */
  isUnknown(userKey: string, nowSeconds: number): Promise<boolean>;
  /** Remembers that Alma does not know the patron, until `untilSeconds` (epoch seconds). */
  remember(userKey: string, untilSeconds: number): Promise<void>;
}
