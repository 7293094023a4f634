/*===- attn-capi-test.c - exercise the attn-mlir C API --------------------===*\
|*                                                                            *|
|* Parses a module with an attn op through the C API, verifies it, runs       *|
|* attn-decompose through a textual pipeline and prints the result. Checked   *|
|* by test/CAPI/capi.test.                                                    *|
\*===----------------------------------------------------------------------===*/

#include "attn-c/Dialects.h"

#include "mlir-c/IR.h"
#include "mlir-c/Pass.h"
#include "mlir-c/Support.h"

#include <stdio.h>
#include <string.h>

static void printToStdout(MlirStringRef s, void *userData) {
  (void)userData;
  fwrite(s.data, 1, s.length, stdout);
}

static void printError(MlirStringRef s, void *userData) {
  (void)userData;
  fwrite(s.data, 1, s.length, stderr);
}

int main(void) {
  MlirDialectRegistry registry = mlirDialectRegistryCreate();
  attnRegisterAllDialects(registry);
  attnRegisterAllPasses();
  MlirContext ctx = mlirContextCreateWithRegistry(registry, false);
  mlirDialectRegistryDestroy(registry);

  /* The dialect handle works on its own too. */
  MlirDialectHandle handle = mlirGetDialectHandle__attn__();
  MlirStringRef ns = mlirDialectHandleGetNamespace(handle);
  printf("dialect namespace: %.*s\n", (int)ns.length, ns.data);

  const char *source =
      "func.func @f(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {\n"
      "  %0 = attn.softmax %x, dim = 1 : tensor<2x3xf32> -> tensor<2x3xf32>\n"
      "  return %0 : tensor<2x3xf32>\n"
      "}\n";
  MlirModule module =
      mlirModuleCreateParse(ctx, mlirStringRefCreateFromCString(source));
  if (mlirModuleIsNull(module)) {
    fprintf(stderr, "parse failed\n");
    return 1;
  }
  MlirOperation op = mlirModuleGetOperation(module);
  if (!mlirOperationVerify(op)) {
    fprintf(stderr, "verify failed\n");
    return 1;
  }
  mlirOperationPrint(op, printToStdout, NULL);

  MlirPassManager pm = mlirPassManagerCreate(ctx);
  MlirOpPassManager opm = mlirPassManagerGetAsOpPassManager(pm);
  MlirLogicalResult parsed = mlirParsePassPipeline(
      opm, mlirStringRefCreateFromCString(
                "builtin.module(attn-decompose,canonicalize)"),
      printError, NULL);
  if (mlirLogicalResultIsFailure(parsed)) {
    fprintf(stderr, "\npipeline did not parse\n");
    return 1;
  }
  if (mlirLogicalResultIsFailure(mlirPassManagerRunOnOp(pm, op))) {
    fprintf(stderr, "pass pipeline failed\n");
    return 1;
  }
  printf("\n// after attn-decompose\n");
  mlirOperationPrint(op, printToStdout, NULL);
  printf("\n");

  mlirPassManagerDestroy(pm);
  mlirModuleDestroy(module);
  mlirContextDestroy(ctx);
  return 0;
}
