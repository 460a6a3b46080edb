/* Runs a libFuzzer harness over the files of its seed corpus, without the fuzzer
 * runtime: part of `make test`, so that every harness builds and its seeds pass. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

int main(int argc, char **argv)
{
    DIR *d;
    struct dirent *e;
    int n = 0;

    LLVMFuzzerInitialize(&argc, &argv);
    if (argc < 2 || !(d = opendir(argv[1]))) {
        fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    while ((e = readdir(d))) {
        char path[4096];
        FILE *f;
        long len;
        uint8_t *buf;
        if (e->d_name[0] == '.') {
            continue;
        }
        snprintf(path, sizeof(path), "%s/%s", argv[1], e->d_name);
        if (!(f = fopen(path, "rb"))) {
            continue;
        }
        fseek(f, 0, SEEK_END);
        len = ftell(f);
        fseek(f, 0, SEEK_SET);
        buf = malloc((size_t)len + 1);
        if (fread(buf, 1, (size_t)len, f) != (size_t)len) {
            len = 0;
        }
        fclose(f);
        LLVMFuzzerTestOneInput(buf, (size_t)len);
        free(buf);
        n++;
    }
    closedir(d);
    printf("%s: %d seed inputs replayed\n", argv[0], n);
    return 0;
}
