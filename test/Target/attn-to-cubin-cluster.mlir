// REQUIRES: ptxas
// A softmax row spread over a cluster of 2 blocks (sm_90+): the kernel
// carries its cluster shape (.reqnctapercluster, so that the runtime's plain
// cuLaunchKernel launches it in clusters), synchronizes the cluster and
// reads the other block's partial max and sum through distributed shared
// memory; ptxas assembles it for sm_90a.
// RUN: rm -rf %t && attn-opt %s --attn-to-cubin="chip=sm_90a package-dir=%t" -o /dev/null
// RUN: FileCheck %s --input-file=%t/softmax_cluster_kernels.ptx
// RUN: FileCheck %s --check-prefix=MANIFEST --input-file=%t/manifest.json

// CHECK: .reqnctapercluster 2, 1, 1
// CHECK: barrier.cluster.arrive.aligned
// CHECK: barrier.cluster.wait.aligned
// CHECK: mapa.shared::cluster
// CHECK: ld.shared::cluster
// MANIFEST: "schedule": "#attn.schedule<block_m = 1, block_n = 32768, warps = 16, split = 2>"

func.func @softmax_cluster(%x: tensor<3x65536xbf16>) -> tensor<3x65536xbf16> {
  %y = attn.softmax %x, dim = 1 {schedule = #attn.schedule<block_m = 1, block_n = 32768, warps = 16, split = 2>} : tensor<3x65536xbf16> -> tensor<3x65536xbf16>
  return %y : tensor<3x65536xbf16>
}
