// RILL_EXPORT marks the symbols of rill's public API. rill builds with hidden
// visibility, so only what carries this macro is visible from a shared library.
#ifndef RILL_EXPORT_H_
#define RILL_EXPORT_H_

#define RILL_EXPORT __attribute__((visibility("default")))

#endif  // RILL_EXPORT_H_
