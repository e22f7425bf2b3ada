/**
 * glibc's libc.so.6 through koffi, loaded once for the whole process. koffi costs ~1.4 MB resident, so it
 * is loaded only by a feature that needs a libc call Node lacks (the timex collector's adjtimex); others
 * that merely benefit from one (malloc_trim) use it only if it is already there.
 */
import type * as Koffi from 'koffi';

export interface Libc {
  readonly koffi: typeof Koffi;
  readonly lib: Koffi.LibraryHandle;
  /** malloc_trim(0): returns free malloc memory, from anywhere in the heap, to the OS. */
  mallocTrim(): void;
}

let loaded: Promise<Libc> | undefined;
let ready: Libc | undefined;

/** Loads koffi and binds libc.so.6; rejects where there is no glibc (musl) or no koffi build. */
export function loadLibc(): Promise<Libc> {
  loaded ??= import('koffi').then((koffi) => {
    const lib = koffi.load('libc.so.6');
    let trim: ((pad: number) => number) | undefined;
    ready = {
      koffi,
      lib,
      mallocTrim() {
        trim ??= lib.func('malloc_trim', 'int', ['size_t']) as (pad: number) => number;
        trim(0);
      },
    };
    return ready;
  });
  return loaded;
}

/** libc if something already loaded it, without loading it. */
export function loadedLibc(): Libc | undefined {
  return ready;
}
