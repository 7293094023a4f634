//===- MaskGeometry.h - which keys causal/window attention sees --*- C++ -*-===//
//
// The visibility rule of attn.attention's causal and sliding-window masks,
// bottom-right aligned (FlashAttention 2.1+): with offset = N - M, query i
// sees key j iff
//   j <= i + offset                               (causal)
//   i + offset - left <= j <= i + offset + right  (window = [left, right])
// and what the tiled forms derive from it: the keys a range of query rows
// can see (and the queries a range of keys is seen by), the tiles covering
// them, a split's run of those tiles, and
// whether a key tile crosses the boundary of the visible region (so needs
// the mask). Written once over an arithmetic `Math`; attn-tile (tensor IR),
// the GPU kernels (kernel IR) and the IO model (plain integers) supply
// thin adapters. Header-only and free of MLIR, so that any layer can use it.
//
// A Math provides: types `Value` and `Pred`; `Value c(int64_t)`; add, sub,
// mul, min, max over (Value, Value); floorDiv, ceilDiv over (Value, a
// positive int64_t); lt, le over (Value, Value) -> Pred; orI, andI over
// (Pred, Pred); `Pred never()`.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTN_UTILS_MASKGEOMETRY_H
#define ATTN_DIALECT_ATTN_UTILS_MASKGEOMETRY_H

#include <cstdint>
#include <limits>
#include <optional>
#include <utility>

namespace mlir::attn {

/// A causal and/or window mask of `queries` query rows over `keys` keys.
struct MaskSpec {
  bool causal = false;
  /// [left, right]: keys visible before and after the diagonal.
  std::optional<std::pair<int64_t, int64_t>> window;

  bool masksKeys() const { return causal || window.has_value(); }
};

template <typename Math>
class MaskGeometry {
public:
  using Value = typename Math::Value;
  using Pred = typename Math::Pred;

  MaskGeometry(Math &math, MaskSpec mask, Value queries, Value keys)
      : m(math), mask(mask), queries(queries), keys(keys),
        offset(m.sub(keys, queries)) {}

  /// The key on the diagonal of query row `query`.
  Value diagonal(Value query) { return m.add(query, offset); }

  /// The keys [first, end) that some row of queries [qFirst, qLast] sees:
  /// empty ranges come out as [end, end) with 0 <= end.
  std::pair<Value, Value> visibleKeys(Value qFirst, Value qLast) {
    Value first = m.c(0), end = keys;
    if (mask.causal)
      end = m.min(end, m.add(diagonal(qLast), m.c(1)));
    if (mask.window) {
      first = m.max(first, m.sub(diagonal(qFirst), m.c(mask.window->first)));
      end = m.min(end,
                  m.add(diagonal(qLast), m.c(mask.window->second + 1)));
    }
    end = m.max(end, m.c(0));
    first = m.min(first, end);
    return {first, end};
  }

  /// The key tiles [first, end) of `blockN` keys covering visibleKeys.
  std::pair<Value, Value> keyTiles(Value qFirst, Value qLast,
                                   int64_t blockN) {
    auto [first, end] = visibleKeys(qFirst, qLast);
    return {m.floorDiv(first, blockN), m.ceilDiv(end, blockN)};
  }

  /// The queries [first, end) that see some key of [kFirst, kLast] (all
  /// below N): the backward's view from a block of keys. Empty ranges come
  /// out as [end, end) with 0 <= end.
  std::pair<Value, Value> visibleQueries(Value kFirst, Value kLast) {
    Value first = m.c(0), end = queries;
    if (mask.causal)
      first = m.max(first, m.sub(kFirst, offset));
    if (mask.window) {
      first = m.max(first, m.sub(m.sub(kFirst, offset),
                                 m.c(mask.window->second)));
      end = m.min(end, m.add(m.sub(kLast, offset),
                             m.c(mask.window->first + 1)));
    }
    end = m.max(end, m.c(0));
    first = m.min(first, end);
    return {first, end};
  }

  /// The query tiles [first, end) of `blockM` queries covering
  /// visibleQueries.
  std::pair<Value, Value> queryTiles(Value kFirst, Value kLast,
                                     int64_t blockM) {
    auto [first, end] = visibleQueries(kFirst, kLast);
    return {m.floorDiv(first, blockM), m.ceilDiv(end, blockM)};
  }

  /// Split `splitIndex`'s contiguous run of the tiles [first, end): runs of
  /// ceil(count / split) tiles, the last ones shorter or empty.
  std::pair<Value, Value> splitRun(Value first, Value end, Value splitIndex,
                                   int64_t split) {
    Value perSplit = m.ceilDiv(m.sub(end, first), split);
    Value runFirst = m.min(m.add(first, m.mul(splitIndex, perSplit)), end);
    return {runFirst, m.min(m.add(runFirst, perSplit), end)};
  }

  /// Whether keys [start, last] hold a key that some row of queries
  /// [qFirst, qLast] must not see although it sees others of the tile: the
  /// tile crosses the causal diagonal or a window edge. Or'ed onto `need`
  /// (another reason to mask the tile, e.g. its tail past N).
  Pred crossesBoundary(Value qFirst, Value qLast, Value start, Value last,
                       std::optional<Pred> also = std::nullopt) {
    Pred need = also ? *also : m.never();
    if (mask.causal)
      need = m.orI(need, m.lt(diagonal(qFirst), last));
    if (mask.window) {
      need = m.orI(need, m.lt(start, m.sub(diagonal(qLast),
                                           m.c(mask.window->first))));
      need = m.orI(need, m.lt(m.add(diagonal(qFirst),
                                    m.c(mask.window->second)),
                              last));
    }
    return need;
  }

  /// Whether query `query` sees key `key` (which must be below N).
  Pred visible(Value query, Value key) {
    Pred ok = m.lt(key, keys);
    Value diag = diagonal(query);
    if (mask.causal)
      ok = m.andI(ok, m.le(key, diag));
    if (mask.window) {
      ok = m.andI(ok, m.le(m.sub(diag, m.c(mask.window->first)), key));
      ok = m.andI(ok, m.le(key, m.add(diag, m.c(mask.window->second))));
    }
    return ok;
  }

private:
  Math &m;
  MaskSpec mask;
  Value queries, keys, offset;
};

/// Plain integers, saturating at the int64 limits so that window bounds
/// near them cannot wrap (the IO model, the tests).
struct IntegerMath {
  using Value = int64_t;
  using Pred = bool;
  static constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  static constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

  Value c(int64_t v) { return v; }
  Value add(Value x, Value y) {
    Value r;
    return __builtin_add_overflow(x, y, &r) ? (y > 0 ? kMax : kMin) : r;
  }
  Value sub(Value x, Value y) {
    Value r;
    return __builtin_sub_overflow(x, y, &r) ? (y < 0 ? kMax : kMin) : r;
  }
  Value mul(Value x, Value y) {
    Value r;
    return __builtin_mul_overflow(x, y, &r) ? ((x < 0) != (y < 0) ? kMin : kMax)
                                            : r;
  }
  Value min(Value x, Value y) { return x < y ? x : y; }
  Value max(Value x, Value y) { return x < y ? y : x; }
  /// For y > 0 (C++ division truncates toward zero).
  Value floorDiv(Value x, int64_t y) { return x / y - (x % y < 0 ? 1 : 0); }
  /// For y > 0.
  Value ceilDiv(Value x, int64_t y) { return x / y + (x % y > 0 ? 1 : 0); }
  Pred lt(Value x, Value y) { return x < y; }
  Pred le(Value x, Value y) { return x <= y; }
  Pred orI(Pred x, Pred y) { return x || y; }
  Pred andI(Pred x, Pred y) { return x && y; }
  Pred never() { return false; }
};

} // namespace mlir::attn

#endif // ATTN_DIALECT_ATTN_UTILS_MASKGEOMETRY_H
