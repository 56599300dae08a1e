// Float32 exp and log on 8 lanes at a time (GCC/Clang vector extensions: AVX2 in the avx2 clone,
// two SSE halves in the baseline one). glibc's expf and log1pf are scalar calls, and log1pf alone
// took a tenth of an MLP training step. Cephes's polynomials, within 2.3 ulp of the correctly
// rounded result over the whole float range (checked by test/engine/native.test.ts against double
// precision), with IEEE special values: exp(+inf) = inf, exp(-inf) = 0, log(0) = -inf,
// log(negative) = NaN, NaN gives NaN. Denormal inputs and results are handled.
#pragma once

#include <cstdint>
#include <cstring>
#include <limits>

// Vectors must never cross a call between the AVX2 clone and code compiled for baseline x86-64:
// the two pass 32-byte vectors differently (registers vs memory), so everything here is inlined.
#define VMATH_INLINE inline __attribute__((always_inline))
#define VMATH_LAMBDA __attribute__((always_inline))

namespace vmath {

constexpr int LANES = 8;
typedef float Floats __attribute__((vector_size(LANES * sizeof(float))));
typedef int32_t Ints __attribute__((vector_size(LANES * sizeof(int32_t))));

VMATH_INLINE Floats splat(float value) { return Floats{} + value; }
VMATH_INLINE Ints bitsOf(Floats value) { return reinterpret_cast<Ints&>(value); }
VMATH_INLINE Floats floatsOf(Ints bits) { return reinterpret_cast<Floats&>(bits); }
VMATH_INLINE Floats select(Ints mask, Floats yes, Floats no) { return floatsOf((bitsOf(yes) & mask) | (bitsOf(no) & ~mask)); }

VMATH_INLINE Floats load(const float* source) {
  Floats value;
  std::memcpy(&value, source, sizeof value);
  return value;
}

VMATH_INLINE void store(float* target, Floats value) { std::memcpy(target, &value, sizeof value); }

VMATH_INLINE Floats exp(Floats x) {
  // Outside [-104, 89] the result is 0 or inf; clamping keeps n small enough that 2^n's two halves are representable.
  Floats clamped = select(x < -104.0f, splat(-104.0f), x);
  clamped = select(clamped > 89.0f, splat(89.0f), clamped);
  // n = floor(x·log2(e) + ½), by truncation corrected below zero.
  const Floats t = clamped * 1.44269504088896341f + 0.5f;
  const Ints truncatedInt = __builtin_convertvector(t, Ints);
  const Floats truncated = __builtin_convertvector(truncatedInt, Floats);
  const Ints below = truncated > t;
  const Floats n = select(below, truncated - 1.0f, truncated);
  const Ints exponent = truncatedInt + below;  // `below` is −1 where true
  Floats r = clamped - n * 0.693359375f;
  r = r + n * 2.12194440e-4f;
  Floats p = splat(1.9875691500e-4f);
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const Ints half = exponent >> 1;
  const Floats result = p * floatsOf((half + 127) << 23) * floatsOf((exponent - half + 127) << 23);
  return select(x != x, x, result);
}

VMATH_INLINE Floats log(Floats x) {
  // Denormals are scaled into the normal range first.
  const Ints tiny = x < 1.17549435e-38f;
  const Floats scaled = select(tiny, x * 8388608.0f, x);
  const Ints bits = bitsOf(scaled);
  Floats e = __builtin_convertvector(((bits >> 23) & 0xff) - 126, Floats) - floatsOf(bitsOf(splat(23.0f)) & tiny);
  Floats m = floatsOf((bits & 0x807fffff) | 0x3f000000);
  const Ints low = m < 0.707106781186547524f;
  e = select(low, e - 1.0f, e);
  m = select(low, m + m - 1.0f, m - 1.0f);
  const Floats z = m * m;
  Floats y = splat(7.0376836292e-2f);
  y = y * m - 1.1514610310e-1f;
  y = y * m + 1.1676998740e-1f;
  y = y * m - 1.2420140846e-1f;
  y = y * m + 1.4249322787e-1f;
  y = y * m - 1.6668057665e-1f;
  y = y * m + 2.0000714765e-1f;
  y = y * m - 2.4999993993e-1f;
  y = y * m + 3.3333331174e-1f;
  y = y * m * z;
  y = y + e * -2.12194440e-4f;
  y = y - 0.5f * z;
  Floats result = m + y;
  result = result + e * 0.693359375f;
  const float infinity = std::numeric_limits<float>::infinity();
  result = select(x == infinity, splat(infinity), result);
  result = select(x == 0.0f, splat(-infinity), result);
  return select((x < 0.0f) | (x != x), splat(std::numeric_limits<float>::quiet_NaN()), result);
}

// log(1 + x) without losing x's digits when x is small: log(u)·x/(u − 1) with u = 1 + x (Goldberg).
VMATH_INLINE Floats log1p(Floats x) {
  const Floats u = 1.0f + x;
  const Floats one = splat(1.0f);
  const Ints exact = u == 1.0f;
  // The divisor is made 1 where u = 1 so that no lane divides by zero.
  const Floats scaled = log(u) * (x / select(exact, one, u - 1.0f));
  const Floats result = select(exact, x, scaled);
  return select(u == std::numeric_limits<float>::infinity(), u, result);
}

// Applies `function` to `length` floats, 8 at a time; the tail goes through a padded copy.
template <typename Function>
VMATH_INLINE void map(const float* x, float* out, int64_t length, Function function) {
  int64_t i = 0;
  for (; i + LANES <= length; i += LANES) store(out + i, function(load(x + i)));
  if (i < length) {
    float in[LANES] = {}, result[LANES];
    std::memcpy(in, x + i, static_cast<size_t>(length - i) * sizeof(float));
    store(result, function(load(in)));
    std::memcpy(out + i, result, static_cast<size_t>(length - i) * sizeof(float));
  }
}

}  // namespace vmath
