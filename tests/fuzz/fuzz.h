/* The libFuzzer entry points every harness defines. */
#ifndef SO_FUZZ_H
#define SO_FUZZ_H
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
#endif
