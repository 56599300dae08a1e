// Latent Lab's native CPU kernels: N-API functions that TF.js kernels on the `native` backend call
// with the backend's own typed arrays (runtime/native/). Outputs are written into arrays the caller
// allocated; nothing here keeps a pointer after it returns. GEMM goes to BLAS (OpenBLAS on Linux
// and Windows, Accelerate on macOS); convolutions are im2col + GEMM; the elementwise loops are
// compiled for baseline x86-64 with an AVX2 clone chosen at load time. Work above a size threshold
// is split across the addon's thread pool (pool.h), with BLAS itself single-threaded.
#include <node_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "pool.h"
#include "vmath.h"

#ifdef LATENT_LAB_ACCELERATE
#include <Accelerate/Accelerate.h>
#else
#include <cblas.h>
#endif

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define VECTOR_CLONES
#endif

namespace {

// ---- argument helpers --------------------------------------------------------------------------

struct Args {
  napi_env env;
  size_t count = 24;
  napi_value values[24];
  bool ok = true;

  Args(napi_env environment, napi_callback_info info) : env(environment) {
    if (napi_get_cb_info(env, info, &count, values, nullptr, nullptr) != napi_ok) fail("could not read the arguments");
  }

  void fail(const char* message) {
    if (ok) napi_throw_error(env, "LATENT_LAB_NATIVE", message);
    ok = false;
  }

  template <typename T>
  T* array(size_t index, size_t* length, napi_typedarray_type expected) {
    if (length) *length = 0;
    if (index >= count) {
      fail("missing typed array argument");
      return nullptr;
    }
    napi_typedarray_type type;
    size_t elements = 0;
    void* data = nullptr;
    if (napi_get_typedarray_info(env, values[index], &type, &elements, &data, nullptr, nullptr) != napi_ok || type != expected) {
      fail("expected a typed array of the right type");
      return nullptr;
    }
    if (length) *length = elements;
    return static_cast<T*>(data);
  }

  float* floats(size_t index, size_t* length = nullptr) { return array<float>(index, length, napi_float32_array); }
  int32_t* ints(size_t index, size_t* length = nullptr) { return array<int32_t>(index, length, napi_int32_array); }

  double number(size_t index) {
    double value = 0;
    if (index >= count || napi_get_value_double(env, values[index], &value) != napi_ok) fail("expected a number");
    return value;
  }

  int64_t integer(size_t index) { return static_cast<int64_t>(number(index)); }

  bool flag(size_t index) {
    bool value = false;
    if (index >= count || napi_get_value_bool(env, values[index], &value) != napi_ok) fail("expected a boolean");
    return value;
  }
};

napi_value undefined(napi_env env) {
  napi_value value;
  napi_get_undefined(env, &value);
  return value;
}

// ---- GEMM --------------------------------------------------------------------------------------

void sgemmSerial(bool transA, bool transB, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  if (m <= 0 || n <= 0) return;
  cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), alpha, a,
              static_cast<int>(lda), b, static_cast<int>(ldb), beta, c, static_cast<int>(ldc));
}

// Below this many multiply-adds a GEMM stays on one thread: waking a worker costs more than it saves.
const int64_t PARALLEL_GEMM_WORK = int64_t{1} << 23;
// Splits fall on multiples of this, the row or column block of the BLAS micro-kernels.
const int64_t GEMM_SPLIT_QUANTUM = 16;

// Row-major C = alpha·op(A)·op(B) + beta·C, split across the pool along C's longer side, in two
// pieces per thread (each piece is a BLAS call that packs its operands again).
void sgemm(bool transA, bool transB, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  const int threads = pool::shared().size();
  if (threads <= 1 || m * n * k < PARALLEL_GEMM_WORK || std::max(m, n) < 2 * GEMM_SPLIT_QUANTUM) {
    sgemmSerial(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  const bool splitRows = m >= n;
  const int64_t blocks = ((splitRows ? m : n) + GEMM_SPLIT_QUANTUM - 1) / GEMM_SPLIT_QUANTUM;
  pool::parallelFor(blocks, 1, [&](int64_t begin, int64_t end) {
    const int64_t from = begin * GEMM_SPLIT_QUANTUM;
    if (splitRows) {
      const int64_t to = std::min(m, end * GEMM_SPLIT_QUANTUM);
      sgemmSerial(transA, transB, to - from, n, k, alpha, transA ? a + from : a + from * lda, lda, b, ldb, beta, c + from * ldc, ldc);
    } else {
      const int64_t to = std::min(n, end * GEMM_SPLIT_QUANTUM);
      sgemmSerial(transA, transB, m, to - from, k, alpha, a, lda, transB ? b + from * ldb : b + from, ldb, beta, c + from, ldc);
    }
  }, 2);
}

// gemm(transA, transB, m, n, k, A, B, C, batch, strideA, strideB, strideC, alpha, beta)
// Row-major C[b] = alpha * op(A[b]) * op(B[b]) + beta * C[b]; a stride of 0 broadcasts.
napi_value Gemm(napi_env env, napi_callback_info info) {
  Args args(env, info);
  const bool transA = args.flag(0), transB = args.flag(1);
  const int64_t m = args.integer(2), n = args.integer(3), k = args.integer(4);
  size_t lengthA, lengthB, lengthC;
  const float* a = args.floats(5, &lengthA);
  const float* b = args.floats(6, &lengthB);
  float* c = args.floats(7, &lengthC);
  const int64_t batch = args.integer(8), strideA = args.integer(9), strideB = args.integer(10), strideC = args.integer(11);
  const float alpha = static_cast<float>(args.number(12)), beta = static_cast<float>(args.number(13));
  if (!args.ok) return nullptr;
  if (static_cast<size_t>((batch - 1) * strideA + m * k) > lengthA || static_cast<size_t>((batch - 1) * strideB + k * n) > lengthB ||
      static_cast<size_t>((batch - 1) * strideC + m * n) > lengthC) {
    args.fail("gemm: an operand is smaller than its shape");
    return nullptr;
  }
  const int64_t lda = transA ? m : k, ldb = transB ? k : n;
  if (batch >= pool::shared().size() && batch > 1) {
    pool::parallelFor(batch, 1, [&](int64_t begin, int64_t end) {
      for (int64_t index = begin; index < end; index++) sgemmSerial(transA, transB, m, n, k, alpha, a + index * strideA, lda, b + index * strideB, ldb, beta, c + index * strideC, n);
    });
  } else {
    for (int64_t index = 0; index < batch; index++) sgemm(transA, transB, m, n, k, alpha, a + index * strideA, lda, b + index * strideB, ldb, beta, c + index * strideC, n);
  }
  return undefined(env);
}

// ---- elementwise -------------------------------------------------------------------------------

enum Unary { NEG, EXP, LOG, LOG1P, SQRT, RSQRT, SQUARE, ABS, RELU, SIGMOID, SOFTPLUS, TANH, STEP, RECIPROCAL, UNARY_COUNT };

// Below this many elements an elementwise kernel stays on one thread: waking a sleeping worker
// costs tens of microseconds (more in a VM), as much as the loop itself.
const int64_t PARALLEL_ELEMENTS = int64_t{1} << 18;

// TF.js's softplus thresholds (tfjs-backend-cpu softplus.ts): exact where the naive form loses digits.
const float SOFTPLUS_THRESHOLD = std::log(1.1920928955078125e-7f) + 2.0f;

VECTOR_CLONES void unaryLoop(int op, const float* x, float* out, int64_t length, float alpha) {
  using vmath::Floats;
  switch (op) {
    case NEG: for (int64_t i = 0; i < length; i++) out[i] = -x[i]; break;
    case EXP: vmath::map(x, out, length, [](Floats v) VMATH_LAMBDA { return vmath::exp(v); }); break;
    case LOG: vmath::map(x, out, length, [](Floats v) VMATH_LAMBDA { return vmath::log(v); }); break;
    case LOG1P: vmath::map(x, out, length, [](Floats v) VMATH_LAMBDA { return vmath::log1p(v); }); break;
    case SQRT: for (int64_t i = 0; i < length; i++) out[i] = std::sqrt(x[i]); break;
    case RSQRT: for (int64_t i = 0; i < length; i++) out[i] = 1.0f / std::sqrt(x[i]); break;
    case SQUARE: for (int64_t i = 0; i < length; i++) out[i] = x[i] * x[i]; break;
    case ABS: for (int64_t i = 0; i < length; i++) out[i] = std::fabs(x[i]); break;
    // NaN passes through, as in TF.js (x < 0 is false for NaN).
    case RELU: for (int64_t i = 0; i < length; i++) out[i] = x[i] < 0.0f ? 0.0f : x[i]; break;
    case SIGMOID: vmath::map(x, out, length, [](Floats v) VMATH_LAMBDA { return 1.0f / (1.0f + vmath::exp(-v)); }); break;
    case SOFTPLUS:
      vmath::map(x, out, length, [](Floats v) VMATH_LAMBDA {
        const Floats e = vmath::exp(v);
        return vmath::select(v > -SOFTPLUS_THRESHOLD, v, vmath::select(v < SOFTPLUS_THRESHOLD, e, vmath::log(e + 1.0f)));
      });
      break;
    case TANH: for (int64_t i = 0; i < length; i++) out[i] = std::tanh(x[i]); break;
    case STEP: for (int64_t i = 0; i < length; i++) out[i] = std::isnan(x[i]) ? x[i] : (x[i] > 0.0f ? 1.0f : alpha); break;
    case RECIPROCAL: for (int64_t i = 0; i < length; i++) out[i] = 1.0f / x[i]; break;
  }
}

// unary(op, x, out, alpha)
napi_value UnaryOp(napi_env env, napi_callback_info info) {
  Args args(env, info);
  const int op = static_cast<int>(args.integer(0));
  size_t lengthX, lengthOut;
  const float* x = args.floats(1, &lengthX);
  float* out = args.floats(2, &lengthOut);
  const float alpha = static_cast<float>(args.number(3));
  if (!args.ok) return nullptr;
  if (op < 0 || op >= UNARY_COUNT || lengthOut < lengthX) {
    args.fail("unary: unknown op or short output");
    return nullptr;
  }
  pool::parallelFor(static_cast<int64_t>(lengthX), PARALLEL_ELEMENTS, [&](int64_t begin, int64_t end) { unaryLoop(op, x + begin, out + begin, end - begin, alpha); });
  return undefined(env);
}

enum Binary { ADD, SUB, MUL, DIV, MAX, MIN, SQUARED_DIFFERENCE, BINARY_COUNT };

template <int OP>
inline float apply(float a, float b) {
  if constexpr (OP == ADD) return a + b;
  if constexpr (OP == SUB) return a - b;
  if constexpr (OP == MUL) return a * b;
  if constexpr (OP == DIV) return a / b;
  // TF.js's maximum and minimum propagate NaN.
  if constexpr (OP == MAX) return std::isnan(a) || std::isnan(b) ? NAN : (a > b ? a : b);
  if constexpr (OP == MIN) return std::isnan(a) || std::isnan(b) ? NAN : (a < b ? a : b);
  if constexpr (OP == SQUARED_DIFFERENCE) return (a - b) * (a - b);
  return 0;
}

// The innermost dimension, specialised by whether each side moves along it (stride 1) or is broadcast (stride 0).
template <int OP>
VECTOR_CLONES void binaryRow(const float* a, const float* b, float* out, int64_t length, int strideA, int strideB) {
  if (strideA == 1 && strideB == 1) {
    for (int64_t i = 0; i < length; i++) out[i] = apply<OP>(a[i], b[i]);
  } else if (strideA == 1 && strideB == 0) {
    const float value = b[0];
    for (int64_t i = 0; i < length; i++) out[i] = apply<OP>(a[i], value);
  } else if (strideA == 0 && strideB == 1) {
    const float value = a[0];
    for (int64_t i = 0; i < length; i++) out[i] = apply<OP>(value, b[i]);
  } else {
    for (int64_t i = 0; i < length; i++) out[i] = apply<OP>(a[i * strideA], b[i * strideB]);
  }
}

// Rows [firstRow, endRow) of the output, each `shape[last]` long, or, for a single row, the
// elements [firstRow, endRow) of it (the caller splits whichever there are many of).
template <int OP>
void binaryLoop(const float* a, const float* b, float* out, const int32_t* shape, const int32_t* stridesA, const int32_t* stridesB, int rank, int64_t firstRow, int64_t endRow) {
  const int last = rank - 1;
  const int64_t row = rank > 0 ? shape[last] : 1;
  const int strideA = rank > 0 ? stridesA[last] : 0, strideB = rank > 0 ? stridesB[last] : 0;
  int64_t rows = 1;
  for (int axis = 0; axis < last; axis++) rows *= shape[axis];
  if (rows == 1) {
    binaryRow<OP>(a + firstRow * strideA, b + firstRow * strideB, out + firstRow, endRow - firstRow, strideA, strideB);
    return;
  }
  std::vector<int32_t> counter(std::max(rank, 1), 0);
  int64_t offsetA = 0, offsetB = 0;
  for (int64_t axis = last - 1, rest = firstRow; axis >= 0; axis--) {
    counter[axis] = static_cast<int32_t>(rest % shape[axis]);
    rest /= shape[axis];
    offsetA += static_cast<int64_t>(counter[axis]) * stridesA[axis];
    offsetB += static_cast<int64_t>(counter[axis]) * stridesB[axis];
  }
  for (int64_t r = firstRow; r < endRow; r++) {
    binaryRow<OP>(a + offsetA, b + offsetB, out + r * row, row, strideA, strideB);
    for (int axis = last - 1; axis >= 0; axis--) {
      counter[axis]++;
      offsetA += stridesA[axis];
      offsetB += stridesB[axis];
      if (counter[axis] < shape[axis]) break;
      offsetA -= static_cast<int64_t>(stridesA[axis]) * shape[axis];
      offsetB -= static_cast<int64_t>(stridesB[axis]) * shape[axis];
      counter[axis] = 0;
    }
  }
}

// binary(op, a, b, out, outShape, stridesA, stridesB): strides in elements, 0 on broadcast axes.
napi_value BinaryOp(napi_env env, napi_callback_info info) {
  Args args(env, info);
  const int op = static_cast<int>(args.integer(0));
  size_t lengthA, lengthB, lengthOut, rank, rankA, rankB;
  const float* a = args.floats(1, &lengthA);
  const float* b = args.floats(2, &lengthB);
  float* out = args.floats(3, &lengthOut);
  const int32_t* shape = args.ints(4, &rank);
  const int32_t* stridesA = args.ints(5, &rankA);
  const int32_t* stridesB = args.ints(6, &rankB);
  if (!args.ok) return nullptr;
  int64_t size = 1, lastA = 0, lastB = 0;
  for (size_t axis = 0; axis < rank; axis++) {
    size *= shape[axis];
    lastA += static_cast<int64_t>(stridesA[axis]) * (shape[axis] - 1);
    lastB += static_cast<int64_t>(stridesB[axis]) * (shape[axis] - 1);
  }
  if (op < 0 || op >= BINARY_COUNT || rankA != rank || rankB != rank || static_cast<size_t>(size) > lengthOut ||
      (size > 0 && (static_cast<size_t>(lastA) >= lengthA || static_cast<size_t>(lastB) >= lengthB))) {
    args.fail("binary: shapes and strides do not fit the arrays");
    return nullptr;
  }
  if (size == 0) return undefined(env);
  const int r = static_cast<int>(rank);
  const int64_t row = rank > 0 ? shape[rank - 1] : 1;
  const int64_t rows = size / row;
  // Split rows when there are several, else the one row; either way about PARALLEL_ELEMENTS each.
  const int64_t units = rows == 1 ? row : rows, grain = rows == 1 ? PARALLEL_ELEMENTS : std::max<int64_t>(1, PARALLEL_ELEMENTS / row);
  pool::parallelFor(units, grain, [&](int64_t begin, int64_t end) {
    switch (op) {
      case ADD: binaryLoop<ADD>(a, b, out, shape, stridesA, stridesB, r, begin, end); break;
      case SUB: binaryLoop<SUB>(a, b, out, shape, stridesA, stridesB, r, begin, end); break;
      case MUL: binaryLoop<MUL>(a, b, out, shape, stridesA, stridesB, r, begin, end); break;
      case DIV: binaryLoop<DIV>(a, b, out, shape, stridesA, stridesB, r, begin, end); break;
      case MAX: binaryLoop<MAX>(a, b, out, shape, stridesA, stridesB, r, begin, end); break;
      case MIN: binaryLoop<MIN>(a, b, out, shape, stridesA, stridesB, r, begin, end); break;
      case SQUARED_DIFFERENCE: binaryLoop<SQUARED_DIFFERENCE>(a, b, out, shape, stridesA, stridesB, r, begin, end); break;
    }
  });
  return undefined(env);
}

// ---- reductions --------------------------------------------------------------------------------

enum Reduction { SUM, MEAN, MAXIMUM, MINIMUM, REDUCTION_COUNT };

// Rows [begin, end) of x [outer, inner] reduced to out [outer].
void reduceRows(int op, const float* x, float* out, int64_t begin, int64_t end, int64_t inner) {
  for (int64_t o = begin; o < end; o++) {
    const float* row = x + o * inner;
    if (op == SUM) {
      double sum = 0;
      for (int64_t i = 0; i < inner; i++) sum += row[i];
      out[o] = static_cast<float>(sum);
    } else if (op == MEAN) {
      const float count = static_cast<float>(inner);
      double sum = 0;
      for (int64_t i = 0; i < inner; i++) sum += row[i] / count;
      out[o] = static_cast<float>(sum);
    } else {
      float best = row[0];
      bool nan = std::isnan(best);
      for (int64_t i = 1; i < inner; i++) {
        nan = nan || std::isnan(row[i]);
        best = op == MAXIMUM ? std::max(best, row[i]) : std::min(best, row[i]);
      }
      out[o] = nan ? NAN : best;
    }
  }
}

// Blocks [begin, end) of x [outer, inner, trailing] reduced over `inner` to out [outer, trailing].
void reduceBlocks(int op, const float* x, float* out, int64_t begin, int64_t end, int64_t inner, int64_t trailing) {
  std::vector<double> sums(static_cast<size_t>(trailing));
  for (int64_t o = begin; o < end; o++) {
    const float* block = x + o * inner * trailing;
    float* target = out + o * trailing;
    if (op == SUM || op == MEAN) {
      std::fill(sums.begin(), sums.end(), 0.0);
      const float count = static_cast<float>(inner);
      for (int64_t i = 0; i < inner; i++) {
        const float* row = block + i * trailing;
        if (op == MEAN) {
          for (int64_t t = 0; t < trailing; t++) sums[t] += row[t] / count;
        } else {
          for (int64_t t = 0; t < trailing; t++) sums[t] += row[t];
        }
      }
      for (int64_t t = 0; t < trailing; t++) target[t] = static_cast<float>(sums[t]);
    } else {
      std::memcpy(target, block, static_cast<size_t>(trailing) * sizeof(float));
      for (int64_t i = 1; i < inner; i++) {
        const float* row = block + i * trailing;
        for (int64_t t = 0; t < trailing; t++) {
          if (std::isnan(target[t]) || std::isnan(row[t])) target[t] = NAN;
          else target[t] = op == MAXIMUM ? std::max(target[t], row[t]) : std::min(target[t], row[t]);
        }
      }
    }
  }
}

// reduce(op, x, out, outer, inner, trailing): x is [outer, inner, trailing]; out is [outer, trailing].
// Sums accumulate in double, in the order TF.js's JavaScript kernels use, so they agree to the bit;
// a mean, as there, sums the float32 quotients x / n.
napi_value Reduce(napi_env env, napi_callback_info info) {
  Args args(env, info);
  const int op = static_cast<int>(args.integer(0));
  size_t lengthX, lengthOut;
  const float* x = args.floats(1, &lengthX);
  float* out = args.floats(2, &lengthOut);
  const int64_t outer = args.integer(3), inner = args.integer(4), trailing = args.integer(5);
  if (!args.ok) return nullptr;
  if (op < 0 || op >= REDUCTION_COUNT || inner <= 0 || static_cast<size_t>(outer * inner * trailing) > lengthX || static_cast<size_t>(outer * trailing) > lengthOut) {
    args.fail("reduce: shapes do not fit the arrays");
    return nullptr;
  }
  const int64_t grain = std::max<int64_t>(1, PARALLEL_ELEMENTS / std::max<int64_t>(1, inner * trailing));
  if (trailing == 1) {
    pool::parallelFor(outer, grain, [&](int64_t begin, int64_t end) { reduceRows(op, x, out, begin, end, inner); });
    return undefined(env);
  }
  pool::parallelFor(outer, grain, [&](int64_t begin, int64_t end) { reduceBlocks(op, x, out, begin, end, inner, trailing); });
  return undefined(env);
}

// ---- convolution (NHWC, filters HWIO) ----------------------------------------------------------

struct ConvShape {
  int64_t batch, inHeight, inWidth, inChannels;
  int64_t filterHeight, filterWidth, outChannels;
  int64_t outHeight, outWidth;
  int64_t strideHeight, strideWidth, padTop, padLeft, dilationHeight, dilationWidth;

  int64_t patch() const { return filterHeight * filterWidth * inChannels; }
  int64_t positions() const { return outHeight * outWidth; }
};

bool readConvShape(Args& args, size_t first, ConvShape& shape) {
  const size_t count = 15;
  if (args.count < first + 1) {
    args.fail("conv: missing shape");
    return false;
  }
  size_t length = 0;
  const int32_t* values = args.ints(first, &length);
  if (!args.ok || length != count) {
    args.fail("conv: the shape array needs 15 numbers");
    return false;
  }
  shape = {values[0], values[1], values[2], values[3], values[4], values[5], values[6], values[7], values[8], values[9], values[10], values[11], values[12], values[13], values[14]};
  return true;
}

// Patches of image `n` as rows: [outHeight * outWidth, filterHeight * filterWidth * inChannels].
void im2col(const ConvShape& s, const float* image, float* columns) {
  const int64_t channels = s.inChannels;
  for (int64_t oy = 0; oy < s.outHeight; oy++) {
    for (int64_t ox = 0; ox < s.outWidth; ox++) {
      float* row = columns + (oy * s.outWidth + ox) * s.patch();
      for (int64_t fy = 0; fy < s.filterHeight; fy++) {
        const int64_t iy = oy * s.strideHeight - s.padTop + fy * s.dilationHeight;
        for (int64_t fx = 0; fx < s.filterWidth; fx++) {
          const int64_t ix = ox * s.strideWidth - s.padLeft + fx * s.dilationWidth;
          float* target = row + (fy * s.filterWidth + fx) * channels;
          if (iy < 0 || iy >= s.inHeight || ix < 0 || ix >= s.inWidth) std::memset(target, 0, static_cast<size_t>(channels) * sizeof(float));
          else std::memcpy(target, image + (iy * s.inWidth + ix) * channels, static_cast<size_t>(channels) * sizeof(float));
        }
      }
    }
  }
}

// The adjoint of im2col: adds each patch row back into the image it came from.
void col2im(const ConvShape& s, const float* columns, float* image) {
  const int64_t channels = s.inChannels;
  for (int64_t oy = 0; oy < s.outHeight; oy++) {
    for (int64_t ox = 0; ox < s.outWidth; ox++) {
      const float* row = columns + (oy * s.outWidth + ox) * s.patch();
      for (int64_t fy = 0; fy < s.filterHeight; fy++) {
        const int64_t iy = oy * s.strideHeight - s.padTop + fy * s.dilationHeight;
        if (iy < 0 || iy >= s.inHeight) continue;
        for (int64_t fx = 0; fx < s.filterWidth; fx++) {
          const int64_t ix = ox * s.strideWidth - s.padLeft + fx * s.dilationWidth;
          if (ix < 0 || ix >= s.inWidth) continue;
          const float* source = row + (fy * s.filterWidth + fx) * channels;
          float* target = image + (iy * s.inWidth + ix) * channels;
          for (int64_t c = 0; c < channels; c++) target[c] += source[c];
        }
      }
    }
  }
}

// Patch rows of images [first, first + count) of the batch, one image per task.
void im2colImages(const ConvShape& s, const float* x, int64_t first, int64_t count, float* columns) {
  pool::parallelFor(count, 1, [&](int64_t begin, int64_t end) {
    for (int64_t n = begin; n < end; n++) im2col(s, x + (first + n) * s.inHeight * s.inWidth * s.inChannels, columns + n * s.positions() * s.patch());
  });
}

// Scratch for patches, kept between calls: a few MB that would otherwise be allocated every step.
std::vector<float>& scratch(size_t size) {
  static std::vector<float> buffer;
  if (buffer.size() < size) buffer.resize(size);
  return buffer;
}

// Images per im2col block: enough rows for an efficient GEMM, little enough memory.
int64_t imagesPerBlock(const ConvShape& s) {
  const int64_t perImage = std::max<int64_t>(1, s.positions() * s.patch());
  return std::max<int64_t>(1, std::min<int64_t>(s.batch, (int64_t{1} << 22) / perImage));
}

bool checkConv(Args& args, const ConvShape& s, size_t lengthInput, size_t lengthFilter, size_t lengthOutput) {
  if (static_cast<size_t>(s.batch * s.inHeight * s.inWidth * s.inChannels) > lengthInput || static_cast<size_t>(s.patch() * s.outChannels) > lengthFilter ||
      static_cast<size_t>(s.batch * s.positions() * s.outChannels) > lengthOutput) {
    args.fail("conv: an array is smaller than its shape");
    return false;
  }
  return true;
}

// conv2d(x, filter, out, shape)
napi_value Conv2d(napi_env env, napi_callback_info info) {
  Args args(env, info);
  size_t lengthX, lengthW, lengthOut;
  const float* x = args.floats(0, &lengthX);
  const float* w = args.floats(1, &lengthW);
  float* out = args.floats(2, &lengthOut);
  ConvShape s;
  if (!args.ok || !readConvShape(args, 3, s) || !checkConv(args, s, lengthX, lengthW, lengthOut)) return nullptr;
  const int64_t block = imagesPerBlock(s);
  std::vector<float>& columns = scratch(static_cast<size_t>(block * s.positions() * s.patch()));
  for (int64_t first = 0; first < s.batch; first += block) {
    const int64_t images = std::min(block, s.batch - first);
    im2colImages(s, x, first, images, columns.data());
    sgemm(false, false, images * s.positions(), s.outChannels, s.patch(), 1.0f, columns.data(), s.patch(), w, s.outChannels, 0.0f, out + first * s.positions() * s.outChannels, s.outChannels);
  }
  return undefined(env);
}

// conv2dBackpropInput(dy, filter, dx, shape): dx = col2im(dy · filterᵀ)
napi_value Conv2dBackpropInput(napi_env env, napi_callback_info info) {
  Args args(env, info);
  size_t lengthDy, lengthW, lengthDx;
  const float* dy = args.floats(0, &lengthDy);
  const float* w = args.floats(1, &lengthW);
  float* dx = args.floats(2, &lengthDx);
  ConvShape s;
  if (!args.ok || !readConvShape(args, 3, s) || !checkConv(args, s, lengthDx, lengthW, lengthDy)) return nullptr;
  std::memset(dx, 0, static_cast<size_t>(s.batch * s.inHeight * s.inWidth * s.inChannels) * sizeof(float));
  const int64_t block = imagesPerBlock(s);
  std::vector<float>& columns = scratch(static_cast<size_t>(block * s.positions() * s.patch()));
  for (int64_t first = 0; first < s.batch; first += block) {
    const int64_t images = std::min(block, s.batch - first);
    sgemm(false, true, images * s.positions(), s.patch(), s.outChannels, 1.0f, dy + first * s.positions() * s.outChannels, s.outChannels, w, s.outChannels, 0.0f, columns.data(), s.patch());
    pool::parallelFor(images, 1, [&](int64_t begin, int64_t end) {
      for (int64_t n = begin; n < end; n++) col2im(s, columns.data() + n * s.positions() * s.patch(), dx + (first + n) * s.inHeight * s.inWidth * s.inChannels);
    });
  }
  return undefined(env);
}

// conv2dBackpropFilter(x, dy, dw, shape): dw = im2col(x)ᵀ · dy, accumulated over the batch.
napi_value Conv2dBackpropFilter(napi_env env, napi_callback_info info) {
  Args args(env, info);
  size_t lengthX, lengthDy, lengthDw;
  const float* x = args.floats(0, &lengthX);
  const float* dy = args.floats(1, &lengthDy);
  float* dw = args.floats(2, &lengthDw);
  ConvShape s;
  if (!args.ok || !readConvShape(args, 3, s) || !checkConv(args, s, lengthX, lengthDw, lengthDy)) return nullptr;
  const int64_t block = imagesPerBlock(s);
  std::vector<float>& columns = scratch(static_cast<size_t>(block * s.positions() * s.patch()));
  for (int64_t first = 0; first < s.batch; first += block) {
    const int64_t images = std::min(block, s.batch - first);
    im2colImages(s, x, first, images, columns.data());
    sgemm(true, false, s.patch(), s.outChannels, images * s.positions(), 1.0f, columns.data(), s.patch(), dy + first * s.positions() * s.outChannels, s.outChannels,
          first == 0 ? 0.0f : 1.0f, dw, s.outChannels);
  }
  return undefined(env);
}

// ---- losses ------------------------------------------------------------------------------------

// One element of the Bernoulli negative log-likelihood from a logit l and a target x in [0, 1]:
// max(l, 0) − l·x + log(1 + e^−|l|), the same ops in the same order as the composed form.
VMATH_INLINE vmath::Floats bernoulliNll(vmath::Floats l, vmath::Floats x) {
  const vmath::Floats zero = vmath::splat(0.0f);
  const vmath::Floats relu = vmath::select(l < 0.0f, zero, l);
  const vmath::Floats magnitude = vmath::floatsOf(vmath::bitsOf(l) & 0x7fffffff);
  return (relu - l * x) + vmath::log1p(vmath::exp(-magnitude));
}

VECTOR_CLONES void bernoulliNllRows(const float* logits, const float* x, float* out, int64_t begin, int64_t end, int64_t inner) {
  using vmath::Floats;
  for (int64_t row = begin; row < end; row++) {
    const float* l = logits + row * inner;
    const float* t = x + row * inner;
    // Eight partial sums in double, one per lane, widened four lanes at a time: the order differs
    // from a sequential sum by far less than a float's rounding.
    typedef float Half __attribute__((vector_size(4 * sizeof(float))));
    typedef double Wide __attribute__((vector_size(4 * sizeof(double))));
    Wide low = {}, high = {};
    auto accumulate = [&](vmath::Floats values) VMATH_LAMBDA {
      Half first, second;
      std::memcpy(&first, &values, sizeof first);
      std::memcpy(&second, reinterpret_cast<const char*>(&values) + sizeof first, sizeof second);
      low += __builtin_convertvector(first, Wide);
      high += __builtin_convertvector(second, Wide);
    };
    int64_t i = 0;
    for (; i + vmath::LANES <= inner; i += vmath::LANES) accumulate(bernoulliNll(vmath::load(l + i), vmath::load(t + i)));
    if (i < inner) {
      float tailL[vmath::LANES] = {}, tailX[vmath::LANES] = {}, values[vmath::LANES];
      std::memcpy(tailL, l + i, static_cast<size_t>(inner - i) * sizeof(float));
      std::memcpy(tailX, t + i, static_cast<size_t>(inner - i) * sizeof(float));
      vmath::store(values, bernoulliNll(vmath::load(tailL), vmath::load(tailX)));
      // Only the real elements count: the padding's loss, log 2, must not.
      for (int64_t lane = inner - i; lane < vmath::LANES; lane++) values[lane] = 0.0f;
      accumulate(vmath::load(values));
    }
    double sum = 0;
    for (int lane = 0; lane < 4; lane++) sum += low[lane] + high[lane];
    out[row] = static_cast<float>(sum);
  }
}

// ∂/∂l of dy[row]·Σ nll = dy[row]·(σ(l) − x).
VECTOR_CLONES void bernoulliNllGradientRows(const float* logits, const float* x, const float* dy, float* dl, int64_t begin, int64_t end, int64_t inner) {
  using vmath::Floats;
  for (int64_t row = begin; row < end; row++) {
    const float scale = dy[row];
    const int64_t offset = row * inner;
    int64_t i = 0;
    auto gradient = [&](Floats l, Floats t) VMATH_LAMBDA { return (1.0f / (1.0f + vmath::exp(-l)) - t) * scale; };
    for (; i + vmath::LANES <= inner; i += vmath::LANES) vmath::store(dl + offset + i, gradient(vmath::load(logits + offset + i), vmath::load(x + offset + i)));
    if (i < inner) {
      float tailL[vmath::LANES] = {}, tailX[vmath::LANES] = {}, result[vmath::LANES];
      std::memcpy(tailL, logits + offset + i, static_cast<size_t>(inner - i) * sizeof(float));
      std::memcpy(tailX, x + offset + i, static_cast<size_t>(inner - i) * sizeof(float));
      vmath::store(result, gradient(vmath::load(tailL), vmath::load(tailX)));
      std::memcpy(dl + offset + i, result, static_cast<size_t>(inner - i) * sizeof(float));
    }
  }
}

// bernoulliNll(logits, x, out, rows, inner): out[r] = Σ over the r-th `inner` elements.
napi_value BernoulliNll(napi_env env, napi_callback_info info) {
  Args args(env, info);
  size_t lengthL, lengthX, lengthOut;
  const float* logits = args.floats(0, &lengthL);
  const float* x = args.floats(1, &lengthX);
  float* out = args.floats(2, &lengthOut);
  const int64_t rows = args.integer(3), inner = args.integer(4);
  if (!args.ok) return nullptr;
  if (rows < 0 || inner <= 0 || lengthL != static_cast<size_t>(rows * inner) || lengthX != lengthL || lengthOut < static_cast<size_t>(rows)) {
    args.fail("bernoulliNll: shapes do not fit the arrays");
    return nullptr;
  }
  // exp and log1p make each element several times dearer than a plain elementwise op: split sooner.
  pool::parallelFor(rows, std::max<int64_t>(1, PARALLEL_ELEMENTS / 8 / inner), [&](int64_t begin, int64_t end) { bernoulliNllRows(logits, x, out, begin, end, inner); });
  return undefined(env);
}

// bernoulliNllGradient(logits, x, dy, dlogits, rows, inner)
napi_value BernoulliNllGradient(napi_env env, napi_callback_info info) {
  Args args(env, info);
  size_t lengthL, lengthX, lengthDy, lengthOut;
  const float* logits = args.floats(0, &lengthL);
  const float* x = args.floats(1, &lengthX);
  const float* dy = args.floats(2, &lengthDy);
  float* dl = args.floats(3, &lengthOut);
  const int64_t rows = args.integer(4), inner = args.integer(5);
  if (!args.ok) return nullptr;
  if (rows < 0 || inner <= 0 || lengthL != static_cast<size_t>(rows * inner) || lengthX != lengthL || lengthOut != lengthL || lengthDy < static_cast<size_t>(rows)) {
    args.fail("bernoulliNllGradient: shapes do not fit the arrays");
    return nullptr;
  }
  pool::parallelFor(rows, std::max<int64_t>(1, PARALLEL_ELEMENTS / 4 / inner), [&](int64_t begin, int64_t end) { bernoulliNllGradientRows(logits, x, dy, dl, begin, end, inner); });
  return undefined(env);
}

// ---- fused optimizer updates (in place) --------------------------------------------------------

// adam(param, grad, m, v, beta1, 1 - beta1, beta2, 1 - beta2, stepSize, √(1 - beta2^t), epsilon, l2, keep)
// The ops of runtime/train/optimizers.ts in the same order, each rounded to float32 as TF.js rounds
// each op's output (and its constants, computed in double by the caller), so the result is the
// same to the bit: one pass instead of ~14 kernels. Rounding a double result to float32 gives the
// correctly rounded float32 result for +, −, ×, ÷ and √, so float arithmetic here matches.
VECTOR_CLONES void adamLoop(float* p, const float* g, float* m, float* v, int64_t length, float beta1, float rest1, float beta2, float rest2, float stepSize, float correction, float epsilon, float l2,
                            float keep) {
  for (int64_t i = 0; i < length; i++) {
    const float gradient = l2 != 0.0f ? g[i] + l2 * p[i] : g[i];
    m[i] = beta1 * m[i] + rest1 * gradient;
    v[i] = beta2 * v[i] + rest2 * (gradient * gradient);
    const float denominator = std::sqrt(v[i]) / correction + epsilon;
    const float decayed = keep != 1.0f ? p[i] * keep : p[i];
    p[i] = decayed - stepSize * (m[i] / denominator);
  }
}

napi_value Adam(napi_env env, napi_callback_info info) {
  Args args(env, info);
  size_t lengthP, lengthG, lengthM, lengthV;
  float* p = args.floats(0, &lengthP);
  const float* g = args.floats(1, &lengthG);
  float* m = args.floats(2, &lengthM);
  float* v = args.floats(3, &lengthV);
  const float beta1 = static_cast<float>(args.number(4)), rest1 = static_cast<float>(args.number(5)), beta2 = static_cast<float>(args.number(6)), rest2 = static_cast<float>(args.number(7));
  const float stepSize = static_cast<float>(args.number(8)), correction = static_cast<float>(args.number(9)), epsilon = static_cast<float>(args.number(10));
  const float l2 = static_cast<float>(args.number(11)), keep = static_cast<float>(args.number(12));
  if (!args.ok) return nullptr;
  if (lengthG != lengthP || lengthM != lengthP || lengthV != lengthP) {
    args.fail("adam: the parameter, gradient and slots differ in size");
    return nullptr;
  }
  pool::parallelFor(static_cast<int64_t>(lengthP), PARALLEL_ELEMENTS, [&](int64_t begin, int64_t end) {
    adamLoop(p + begin, g + begin, m + begin, v + begin, end - begin, beta1, rest1, beta2, rest2, stepSize, correction, epsilon, l2, keep);
  });
  return undefined(env);
}

// sgd(param, grad, buffer, lr, momentum, l2, first): PyTorch's SGD with momentum (buffer = grad on the first step).
napi_value Sgd(napi_env env, napi_callback_info info) {
  Args args(env, info);
  size_t lengthP, lengthG, lengthB;
  float* p = args.floats(0, &lengthP);
  const float* g = args.floats(1, &lengthG);
  float* buffer = args.floats(2, &lengthB);
  const float lr = static_cast<float>(args.number(3)), momentum = static_cast<float>(args.number(4)), l2 = static_cast<float>(args.number(5));
  const bool first = args.flag(6);
  if (!args.ok) return nullptr;
  if (lengthG != lengthP || lengthB != lengthP) {
    args.fail("sgd: the parameter, gradient and buffer differ in size");
    return nullptr;
  }
  pool::parallelFor(static_cast<int64_t>(lengthP), PARALLEL_ELEMENTS, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; i++) {
      const float gradient = l2 != 0.0f ? g[i] + l2 * p[i] : g[i];
      if (momentum > 0.0f) {
        buffer[i] = first ? gradient : momentum * buffer[i] + gradient;
        p[i] = p[i] - lr * buffer[i];
      } else {
        p[i] = p[i] - lr * gradient;
      }
    }
  });
  return undefined(env);
}

// rmsprop(param, grad, square, buffer, lr, alpha, 1 - alpha, epsilon, momentum, l2)
napi_value Rmsprop(napi_env env, napi_callback_info info) {
  Args args(env, info);
  size_t lengthP, lengthG, lengthS, lengthB;
  float* p = args.floats(0, &lengthP);
  const float* g = args.floats(1, &lengthG);
  float* square = args.floats(2, &lengthS);
  float* buffer = args.floats(3, &lengthB);
  const float lr = static_cast<float>(args.number(4)), alpha = static_cast<float>(args.number(5)), rest = static_cast<float>(args.number(6));
  const float epsilon = static_cast<float>(args.number(7)), momentum = static_cast<float>(args.number(8)), l2 = static_cast<float>(args.number(9));
  if (!args.ok) return nullptr;
  if (lengthG != lengthP || lengthS != lengthP || lengthB != lengthP) {
    args.fail("rmsprop: the parameter, gradient and slots differ in size");
    return nullptr;
  }
  pool::parallelFor(static_cast<int64_t>(lengthP), PARALLEL_ELEMENTS, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; i++) {
      const float gradient = l2 != 0.0f ? g[i] + l2 * p[i] : g[i];
      square[i] = alpha * square[i] + rest * (gradient * gradient);
      const float scaled = gradient / (std::sqrt(square[i]) + epsilon);
      if (momentum > 0.0f) {
        buffer[i] = momentum * buffer[i] + scaled;
        p[i] = p[i] - lr * buffer[i];
      } else {
        p[i] = p[i] - lr * scaled;
      }
    }
  });
  return undefined(env);
}

// ---- threads and identity ----------------------------------------------------------------------

#ifdef LATENT_LAB_ACCELERATE
int blasThreads = 0;
void setBlasThreads(int count) { blasThreads = count; }
int getBlasThreads() { return blasThreads; }
const char* blasName() { return "Accelerate"; }
#else
extern "C" {
void openblas_set_num_threads(int);
int openblas_get_num_threads(void);
char* openblas_get_config(void);
char* openblas_get_corename(void);
}
void setBlasThreads(int count) { openblas_set_num_threads(count); }
int getBlasThreads() { return openblas_get_num_threads(); }
const char* blasName() {
  static char name[256];
  snprintf(name, sizeof name, "%s (%s kernels)", openblas_get_config(), openblas_get_corename());
  return name;
}
#endif

// setThreads(count): the addon's threads, the calling one included. BLAS stays on one thread
// inside each, so `count` is the most cores the addon keeps busy.
napi_value SetThreads(napi_env env, napi_callback_info info) {
  Args args(env, info);
  const int count = static_cast<int>(args.integer(0));
  if (!args.ok) return nullptr;
  setBlasThreads(1);
  pool::shared().resize(std::max(1, count));
  return undefined(env);
}

napi_value Info(napi_env env, napi_callback_info) {
  napi_value result, blas, threads, blasThreads, vectors;
  napi_create_object(env, &result);
  napi_create_string_utf8(env, blasName(), NAPI_AUTO_LENGTH, &blas);
  napi_create_int32(env, pool::shared().size(), &threads);
  napi_create_int32(env, getBlasThreads(), &blasThreads);
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
  __builtin_cpu_init();
  const char* vector = __builtin_cpu_supports("avx2") ? "AVX2" : "SSE2";
#elif defined(__aarch64__)
  const char* vector = "NEON";
#else
  const char* vector = "scalar";
#endif
  napi_create_string_utf8(env, vector, NAPI_AUTO_LENGTH, &vectors);
  napi_set_named_property(env, result, "blas", blas);
  napi_set_named_property(env, result, "threads", threads);
  napi_set_named_property(env, result, "blasThreads", blasThreads);
  napi_set_named_property(env, result, "vectors", vectors);
  return result;
}

napi_value Init(napi_env env, napi_value exports) {
  const napi_property_descriptor functions[] = {
      {"gemm", nullptr, Gemm, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"unary", nullptr, UnaryOp, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"binary", nullptr, BinaryOp, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"reduce", nullptr, Reduce, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"conv2d", nullptr, Conv2d, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"conv2dBackpropInput", nullptr, Conv2dBackpropInput, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"conv2dBackpropFilter", nullptr, Conv2dBackpropFilter, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"bernoulliNll", nullptr, BernoulliNll, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"bernoulliNllGradient", nullptr, BernoulliNllGradient, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"adam", nullptr, Adam, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sgd", nullptr, Sgd, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"rmsprop", nullptr, Rmsprop, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"info", nullptr, Info, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof functions / sizeof functions[0], functions);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
