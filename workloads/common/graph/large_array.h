// LargeArray<T>: a fixed-size array of trivially copyable T in one malloc'd
// block, deliberately left uninitialized. Graph arrays are first touched by
// the parallel code that fills them, so a serial zeroing pass (what
// std::vector does) would only add time and, under far memory, faults.
#pragma once

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <type_traits>
#include <utility>

namespace workload::graph {

template <typename T>
class LargeArray {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  LargeArray() = default;
  explicit LargeArray(size_t size) : data_(Allocate(size)), size_(size) {}
  ~LargeArray() { std::free(data_); }
  LargeArray(LargeArray&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  LargeArray& operator=(LargeArray&& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
    return *this;
  }
  LargeArray(const LargeArray&) = delete;
  LargeArray& operator=(const LargeArray&) = delete;

  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }
  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return size_; }
  size_t bytes() const { return size_ * sizeof(T); }

  // Keeps the first `size` elements and returns the rest to the allocator.
  void Shrink(size_t size) {
    if (size >= size_) return;
    if (size == 0) {
      std::free(data_);
      data_ = nullptr;
    } else if (void* p = std::realloc(data_, size * sizeof(T))) {
      data_ = static_cast<T*>(p);
    }
    size_ = size;
  }

  void Free() { *this = LargeArray(); }

 private:
  static T* Allocate(size_t size) {
    if (size == 0) return nullptr;
    void* p = std::malloc(size * sizeof(T));
    if (p == nullptr) {
      std::fprintf(stderr, "out of memory allocating %zu bytes\n", size * sizeof(T));
      std::abort();
    }
    return static_cast<T*>(p);
  }

  T* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace workload::graph
