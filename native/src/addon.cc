// Latent Lab's native CPU kernels: N-API functions that TF.js kernels on the `native` backend call
// with the backend's own typed arrays (runtime/native/). Outputs are written into arrays the caller
// allocated; nothing here keeps a pointer after it returns. GEMM goes to BLAS (OpenBLAS on Linux
// and Windows, Accelerate on macOS); convolutions are im2col + GEMM; the elementwise loops are
// compiled for baseline x86-64 with an AVX2 clone chosen at load time.
#include <node_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

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
  for (int64_t index = 0; index < batch; index++) {
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), alpha,
                a + index * strideA, transA ? static_cast<int>(m) : static_cast<int>(k), b + index * strideB, transB ? static_cast<int>(k) : static_cast<int>(n), beta,
                c + index * strideC, static_cast<int>(n));
  }
  return undefined(env);
}

// ---- elementwise -------------------------------------------------------------------------------

enum Unary { NEG, EXP, LOG, LOG1P, SQRT, RSQRT, SQUARE, ABS, RELU, SIGMOID, SOFTPLUS, TANH, STEP, RECIPROCAL, UNARY_COUNT };

// TF.js's softplus thresholds (tfjs-backend-cpu softplus.ts): exact where the naive form loses digits.
const float SOFTPLUS_THRESHOLD = std::log(1.1920928955078125e-7f) + 2.0f;

VECTOR_CLONES void unaryLoop(int op, const float* x, float* out, int64_t length, float alpha) {
  switch (op) {
    case NEG: for (int64_t i = 0; i < length; i++) out[i] = -x[i]; break;
    case EXP: for (int64_t i = 0; i < length; i++) out[i] = std::exp(x[i]); break;
    case LOG: for (int64_t i = 0; i < length; i++) out[i] = std::log(x[i]); break;
    case LOG1P: for (int64_t i = 0; i < length; i++) out[i] = std::log1p(x[i]); break;
    case SQRT: for (int64_t i = 0; i < length; i++) out[i] = std::sqrt(x[i]); break;
    case RSQRT: for (int64_t i = 0; i < length; i++) out[i] = 1.0f / std::sqrt(x[i]); break;
    case SQUARE: for (int64_t i = 0; i < length; i++) out[i] = x[i] * x[i]; break;
    case ABS: for (int64_t i = 0; i < length; i++) out[i] = std::fabs(x[i]); break;
    // NaN passes through, as in TF.js (x < 0 is false for NaN).
    case RELU: for (int64_t i = 0; i < length; i++) out[i] = x[i] < 0.0f ? 0.0f : x[i]; break;
    case SIGMOID: for (int64_t i = 0; i < length; i++) out[i] = 1.0f / (1.0f + std::exp(-x[i])); break;
    case SOFTPLUS:
      for (int64_t i = 0; i < length; i++) {
        const float value = x[i];
        out[i] = value > -SOFTPLUS_THRESHOLD ? value : value < SOFTPLUS_THRESHOLD ? std::exp(value) : std::log(std::exp(value) + 1.0f);
      }
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
  unaryLoop(op, x, out, static_cast<int64_t>(lengthX), alpha);
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

template <int OP>
void binaryLoop(const float* a, const float* b, float* out, const int32_t* shape, const int32_t* stridesA, const int32_t* stridesB, int rank) {
  const int last = rank - 1;
  const int64_t row = rank > 0 ? shape[last] : 1;
  const int strideA = rank > 0 ? stridesA[last] : 0, strideB = rank > 0 ? stridesB[last] : 0;
  int64_t rows = 1;
  for (int axis = 0; axis < last; axis++) rows *= shape[axis];
  std::vector<int32_t> counter(std::max(rank, 1), 0);
  int64_t offsetA = 0, offsetB = 0;
  for (int64_t r = 0; r < rows; r++) {
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
  switch (op) {
    case ADD: binaryLoop<ADD>(a, b, out, shape, stridesA, stridesB, r); break;
    case SUB: binaryLoop<SUB>(a, b, out, shape, stridesA, stridesB, r); break;
    case MUL: binaryLoop<MUL>(a, b, out, shape, stridesA, stridesB, r); break;
    case DIV: binaryLoop<DIV>(a, b, out, shape, stridesA, stridesB, r); break;
    case MAX: binaryLoop<MAX>(a, b, out, shape, stridesA, stridesB, r); break;
    case MIN: binaryLoop<MIN>(a, b, out, shape, stridesA, stridesB, r); break;
    case SQUARED_DIFFERENCE: binaryLoop<SQUARED_DIFFERENCE>(a, b, out, shape, stridesA, stridesB, r); break;
  }
  return undefined(env);
}

// ---- reductions --------------------------------------------------------------------------------

enum Reduction { SUM, MEAN, MAXIMUM, MINIMUM, REDUCTION_COUNT };

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
  if (trailing == 1) {
    for (int64_t o = 0; o < outer; o++) {
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
    return undefined(env);
  }
  std::vector<double> sums(static_cast<size_t>(trailing));
  for (int64_t o = 0; o < outer; o++) {
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
    for (int64_t n = 0; n < images; n++) im2col(s, x + (first + n) * s.inHeight * s.inWidth * s.inChannels, columns.data() + n * s.positions() * s.patch());
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(images * s.positions()), static_cast<int>(s.outChannels), static_cast<int>(s.patch()), 1.0f,
                columns.data(), static_cast<int>(s.patch()), w, static_cast<int>(s.outChannels), 0.0f, out + first * s.positions() * s.outChannels, static_cast<int>(s.outChannels));
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
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(images * s.positions()), static_cast<int>(s.patch()), static_cast<int>(s.outChannels), 1.0f,
                dy + first * s.positions() * s.outChannels, static_cast<int>(s.outChannels), w, static_cast<int>(s.outChannels), 0.0f, columns.data(), static_cast<int>(s.patch()));
    for (int64_t n = 0; n < images; n++) col2im(s, columns.data() + n * s.positions() * s.patch(), dx + (first + n) * s.inHeight * s.inWidth * s.inChannels);
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
    for (int64_t n = 0; n < images; n++) im2col(s, x + (first + n) * s.inHeight * s.inWidth * s.inChannels, columns.data() + n * s.positions() * s.patch());
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, static_cast<int>(s.patch()), static_cast<int>(s.outChannels), static_cast<int>(images * s.positions()), 1.0f,
                columns.data(), static_cast<int>(s.patch()), dy + first * s.positions() * s.outChannels, static_cast<int>(s.outChannels), first == 0 ? 0.0f : 1.0f, dw,
                static_cast<int>(s.outChannels));
  }
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
  adamLoop(p, g, m, v, static_cast<int64_t>(lengthP), beta1, rest1, beta2, rest2, stepSize, correction, epsilon, l2, keep);
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
  for (size_t i = 0; i < lengthP; i++) {
    const float gradient = l2 != 0.0f ? g[i] + l2 * p[i] : g[i];
    if (momentum > 0.0f) {
      buffer[i] = first ? gradient : momentum * buffer[i] + gradient;
      p[i] = p[i] - lr * buffer[i];
    } else {
      p[i] = p[i] - lr * gradient;
    }
  }
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
  for (size_t i = 0; i < lengthP; i++) {
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

napi_value SetThreads(napi_env env, napi_callback_info info) {
  Args args(env, info);
  const int count = static_cast<int>(args.integer(0));
  if (!args.ok) return nullptr;
  setBlasThreads(std::max(1, count));
  return undefined(env);
}

napi_value Info(napi_env env, napi_callback_info) {
  napi_value result, blas, threads, vectors;
  napi_create_object(env, &result);
  napi_create_string_utf8(env, blasName(), NAPI_AUTO_LENGTH, &blas);
  napi_create_int32(env, getBlasThreads(), &threads);
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
  napi_set_named_property(env, result, "blasThreads", threads);
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
