/*===- RuntimeCTest.c - Drives the runtime's C ABI ------------------------===*\
|*                                                                            *|
|* Loads a kernel package function through attn-c/Runtime.h, prints what the  *|
|* queries answer, then launches it on made-up device pointers (0x1000,       *|
|* 0x2000, ...), which only the fake driver (unittests/FakeCuda) accepts. Run *|
|* by test/Runtime/runtime-c-abi.test.                                        *|
|*                                                                            *|
|*   attn-runtime-c-test <package-dir> [--function F] [--prepare]             *|
|*                       [--launches N] [--misuse]                            *|
|*                                                                            *|
|* --misuse also makes the calls a caller gets wrong and prints the errors.   *|
|* Exit status: 0 if every launch succeeded, 1 if one failed, 2 if the        *|
|* package did not load.                                                      *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "attn-c/Runtime.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void printArgs(const AttnRuntime *runtime) {
  int count = attnRuntimeNumArgs(runtime);
  int i, d;
  printf("function %s op %s args %d temp_bytes %zu\n",
         attnRuntimeFunctionName(runtime), attnRuntimeOpName(runtime), count,
         attnRuntimeTempBytes(runtime));
  for (i = 0; i < count; ++i) {
    int rank = attnRuntimeArgRank(runtime, i);
    printf("  arg %d %s %s operand '%s' %s [", i,
           attnRuntimeArgName(runtime, i),
           attnRuntimeArgIsOutput(runtime, i) ? "output" : "input",
           attnRuntimeArgOperand(runtime, i), attnRuntimeArgDType(runtime, i));
    for (d = 0; d < rank; ++d)
      printf("%s%lld", d ? ", " : "",
             (long long)attnRuntimeArgDim(runtime, i, d));
    printf("]\n");
  }
}

/* Made-up device pointers 0x1000 * (i + 1), one per argument and a spare;
 * the caller frees them. */
static void **makePointers(const AttnRuntime *runtime) {
  int count = attnRuntimeNumArgs(runtime);
  void **pointers = calloc((size_t)count + 1, sizeof(void *));
  int i;
  for (i = 0; i <= count; ++i)
    pointers[i] = (void *)(uintptr_t)(0x1000u * (unsigned)(i + 1));
  return pointers;
}

/* Launches on made-up pointers; prints and returns the status. */
static int launch(AttnRuntime *runtime, int number) {
  int count = attnRuntimeNumArgs(runtime);
  void **pointers = makePointers(runtime);
  int status;
  status = attnRuntimeLaunch(runtime, pointers, (size_t)count, NULL);
  printf("launch %d: status %d%s%s\n", number, status, status ? ": " : "",
         attnRuntimeLastError());
  free(pointers);
  return status;
}

/* The calls a caller gets wrong: each must fail with a message. */
static void misuse(AttnRuntime *runtime) {
  int count = attnRuntimeNumArgs(runtime);
  void **pointers = makePointers(runtime);
  const char *dtype;
  int64_t dim;
  int status;

  status = attnRuntimeLaunch(runtime, pointers, (size_t)count + 1, NULL);
  printf("misuse count: status %d: %s\n", status, attnRuntimeLastError());
  pointers[0] = NULL;
  status = attnRuntimeLaunch(runtime, pointers, (size_t)count, NULL);
  printf("misuse null pointer: status %d: %s\n", status,
         attnRuntimeLastError());
  status = attnRuntimeLaunch(NULL, pointers, (size_t)count, NULL);
  printf("misuse null handle: status %d: %s\n", status, attnRuntimeLastError());
  /* Each query before its error: the message is replaced by the next call. */
  dtype = attnRuntimeArgDType(runtime, count);
  printf("misuse arg index: %s: %s\n", dtype ? dtype : "null",
         attnRuntimeLastError());
  dim = attnRuntimeArgDim(runtime, 0, 99);
  printf("misuse dim: %lld: %s\n", (long long)dim, attnRuntimeLastError());
  printf("misuse null handle queries: args %d rank %d temp_bytes %zu device "
         "%d\n",
         attnRuntimeNumArgs(NULL), attnRuntimeArgRank(NULL, 0),
         attnRuntimeTempBytes(NULL), attnRuntimeDevice(NULL));
  attnRuntimeDestroy(NULL);
  free(pointers);
}

int main(int argc, char **argv) {
  const char *packageDir = NULL;
  const char *function = NULL;
  int prepare = 0, launches = 0, misuseCalls = 0, failed = 0, i;
  AttnRuntime *runtime;

  /* Unbuffered, so that our lines and the fake driver's (on stderr) keep
   * their order when both go to one pipe. */
  setvbuf(stdout, NULL, _IONBF, 0);
  for (i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--function") == 0 && i + 1 < argc)
      function = argv[++i];
    else if (strcmp(argv[i], "--prepare") == 0)
      prepare = 1;
    else if (strcmp(argv[i], "--launches") == 0 && i + 1 < argc)
      launches = atoi(argv[++i]);
    else if (strcmp(argv[i], "--misuse") == 0)
      misuseCalls = 1;
    else if (!packageDir && argv[i][0] != '-')
      packageDir = argv[i];
    else {
      fprintf(stderr, "usage: attn-runtime-c-test <package-dir> [--function "
                      "F] [--prepare] [--launches N] [--misuse]\n");
      return 2;
    }
  }
  if (!packageDir) {
    fprintf(stderr, "attn-runtime-c-test: no package directory\n");
    return 2;
  }

  runtime = attnRuntimeLoad(packageDir, function);
  if (!runtime) {
    printf("load failed: %s\n", attnRuntimeLastError());
    return 2;
  }
  printArgs(runtime);
  if (misuseCalls)
    misuse(runtime);
  if (prepare) {
    int status = attnRuntimePrepare(runtime);
    printf("prepare: status %d%s%s\n", status, status ? ": " : "",
           attnRuntimeLastError());
    failed |= status != 0;
  }
  printf("device %d\n", attnRuntimeDevice(runtime));
  for (i = 1; i <= launches; ++i)
    failed |= launch(runtime, i) != 0;
  attnRuntimeDestroy(runtime);
  printf("destroyed\n");
  return failed ? 1 : 0;
}
