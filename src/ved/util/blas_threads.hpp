#pragma once
// OpenBLAS's thread count, set for good or pinned for a scope. Multi-threaded BLAS/LAPACK
// may sum in a different order from one thread count to another; results that must be
// bit-identical whatever the thread count or process layout (the KL modes of a dataset)
// run on one.
//
//   set_blas_threads(1);                              // e.g. while LibTorch does the threading
//   { ScopedBlasThreads one(1); dsyevd_(...); }
//
// The OpenBLAS functions are weak: with another BLAS they are null and these do nothing.
extern "C" {
void openblas_set_num_threads(int) __attribute__((weak));
int openblas_get_num_threads(void) __attribute__((weak));
}

namespace ved {

inline void set_blas_threads(int n) {
  if (openblas_set_num_threads) openblas_set_num_threads(n);
}

class ScopedBlasThreads {
 public:
  explicit ScopedBlasThreads(int n) {
    if (openblas_get_num_threads && openblas_set_num_threads) {
      previous_ = openblas_get_num_threads();
      openblas_set_num_threads(n);
    }
  }
  ~ScopedBlasThreads() {
    if (previous_ > 0) openblas_set_num_threads(previous_);
  }
  ScopedBlasThreads(const ScopedBlasThreads&) = delete;
  ScopedBlasThreads& operator=(const ScopedBlasThreads&) = delete;

 private:
  int previous_ = 0;
};

}  // namespace ved
