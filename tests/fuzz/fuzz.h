/* The libFuzzer entry points every harness defines. */
#ifndef SO_FUZZ_H
#define SO_FUZZ_H
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The harnesses' common start: APR initialized once, a root pool named name for the
 * per-input pools. Needs <apr_general.h> and <apr_pools.h>. */
#define SO_FUZZ_ROOT_POOL(name)                                                           \
    static apr_pool_t *name;                                                              \
    int LLVMFuzzerInitialize(int *argc, char ***argv)                                     \
    {                                                                                     \
        (void)argc;                                                                       \
        (void)argv;                                                                       \
        apr_initialize();                                                                 \
        apr_pool_create(&name, NULL);                                                     \
        return 0;                                                                         \
    }
#endif
