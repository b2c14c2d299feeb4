// `Symbol.dispose` for the declarations' `[Symbol.dispose]()` members, whatever
// the user's `lib` (as @types/node declares it), so that `using` type-checks
// and a project on an older lib still compiles. The runtime sets it where the
// JavaScript engine has the symbol.
export {};

declare global {
  interface SymbolConstructor {
    readonly dispose: unique symbol;
  }
}
