#include "qb_fuzz_file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char fuzz_dir[64];

static void remove_dir(void) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", fuzz_dir);
  if (system(cmd) != 0) fprintf(stderr, "fuzz: could not remove %s\n", fuzz_dir);
}

const char* qb_fuzz_dir(void) {
  if (!fuzz_dir[0]) {
    snprintf(fuzz_dir, sizeof fuzz_dir, "/tmp/qb_fuzz.XXXXXX");
    if (!mkdtemp(fuzz_dir)) {
      perror("fuzz: mkdtemp");
      abort();
    }
    atexit(remove_dir);
  }
  return fuzz_dir;
}

const char* qb_fuzz_write(const char* name, const uint8_t* data, size_t size) {
  static char path[256];
  snprintf(path, sizeof path, "%s/%s", qb_fuzz_dir(), name);
  FILE* f = fopen(path, "wb");
  if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f)) {
    perror(path);
    abort();
  }
  return path;
}
