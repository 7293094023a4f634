// Hand-written CUDA kernels for the runtime's GPU tests (test/Runtime): a
// stand-in for compiler output that exercises every launch argument kind,
// temporaries, several launches, large dynamic shared memory and a kernel
// that leaves outputs unwritten. Rebuild the checked-in binary with
//   nvcc -cubin -arch=sm_90a -o softmax.cubin softmax-kernels.cu
//   nvcc -ptx -arch=sm_90a -o softmax.ptx softmax-kernels.cu
// Softmax over the last dim of a [rows, length] f32 tensor, one thread a row.

#include <math.h>

extern "C" __global__ void softmax_rows(const float *input, float *result,
                                        long long rows, int length) {
  long long row = blockIdx.x * (long long)blockDim.x + threadIdx.x;
  if (row >= rows)
    return;
  const float *x = input + row * length;
  float maximum = -INFINITY;
  for (int k = 0; k < length; ++k)
    maximum = fmaxf(maximum, x[k]);
  float sum = 0;
  for (int k = 0; k < length; ++k)
    sum += expf(x[k] - maximum);
  for (int k = 0; k < length; ++k)
    result[row * length + k] = expf(x[k] - maximum) / sum;
}

// A buggy variant: the last row is never written.
extern "C" __global__ void softmax_rows_skip_last(const float *input,
                                                  float *result,
                                                  long long rows, int length) {
  long long row = blockIdx.x * (long long)blockDim.x + threadIdx.x;
  if (row >= rows - 1)
    return;
  const float *x = input + row * length;
  float maximum = -INFINITY;
  for (int k = 0; k < length; ++k)
    maximum = fmaxf(maximum, x[k]);
  float sum = 0;
  for (int k = 0; k < length; ++k)
    sum += expf(x[k] - maximum);
  for (int k = 0; k < length; ++k)
    result[row * length + k] = expf(x[k] - maximum) / sum;
}

// Two passes through a temporary: row maxima first, then the softmax.
extern "C" __global__ void row_max(const float *input, float *maxima,
                                   long long rows, int length) {
  long long row = blockIdx.x * (long long)blockDim.x + threadIdx.x;
  if (row >= rows)
    return;
  float maximum = -INFINITY;
  for (int k = 0; k < length; ++k)
    maximum = fmaxf(maximum, input[row * length + k]);
  maxima[row] = maximum;
}

// inputScale and outputScale are 1 in the tests; they are there to check
// that f32 and f64 launch arguments arrive intact (a wrong value shows up
// as a wrong result).
extern "C" __global__ void softmax_with_max(const float *input,
                                            const float *maxima, float *result,
                                            long long rows, int length,
                                            float inputScale,
                                            double outputScale) {
  long long row = blockIdx.x * (long long)blockDim.x + threadIdx.x;
  if (row >= rows)
    return;
  const float *x = input + row * length;
  float maximum = maxima[row] * inputScale;
  float sum = 0;
  for (int k = 0; k < length; ++k)
    sum += expf(x[k] * inputScale - maximum);
  for (int k = 0; k < length; ++k)
    result[row * length + k] =
        (float)(outputScale * (expf(x[k] * inputScale - maximum) / sum));
}

// One block a row, the row staged in dynamic shared memory; the launch asks
// for more than 48 KiB so that the runtime has to opt the kernel in.
extern "C" __global__ void softmax_rows_shared(const float *input,
                                               float *result, int length) {
  extern __shared__ float staged[];
  long long row = blockIdx.x;
  for (int k = threadIdx.x; k < length; k += blockDim.x)
    staged[k] = input[row * length + k];
  __syncthreads();
  if (threadIdx.x != 0)
    return;
  float maximum = -INFINITY;
  for (int k = 0; k < length; ++k)
    maximum = fmaxf(maximum, staged[k]);
  float sum = 0;
  for (int k = 0; k < length; ++k)
    sum += expf(staged[k] - maximum);
  for (int k = 0; k < length; ++k)
    result[row * length + k] = expf(staged[k] - maximum) / sum;
}

// logsumexp over the last dim: result has one f32 per row.
extern "C" __global__ void row_logsumexp(const float *input, float *result,
                                         long long rows, int length) {
  long long row = blockIdx.x * (long long)blockDim.x + threadIdx.x;
  if (row >= rows)
    return;
  const float *x = input + row * length;
  float maximum = -INFINITY;
  for (int k = 0; k < length; ++k)
    maximum = fmaxf(maximum, x[k]);
  float sum = 0;
  for (int k = 0; k < length; ++k)
    sum += expf(x[k] - maximum);
  result[row] = maximum + logf(sum);
}

// A kernel that faults: it writes far outside its output.
extern "C" __global__ void write_out_of_bounds(float *result) {
  result[(1LL << 40) + threadIdx.x] = 1.0f;
}
