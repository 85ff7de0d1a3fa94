#include "ved/util/mpi.hpp"

#include <climits>
#include <cstdlib>

#include "ved/util/error.hpp"

#ifdef VED_HAVE_MPI
#include <mpi.h>
#endif

namespace ved::mpi {
namespace {
World g_world;
bool g_initialised = false;

bool launched_by_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS"})
    if (std::getenv(v)) return true;
  return false;
}
}  // namespace

bool compiled_with_mpi() {
#ifdef VED_HAVE_MPI
  return true;
#else
  return false;
#endif
}

World init(int* argc, char*** argv) {
#ifdef VED_HAVE_MPI
  if (launched_by_mpi()) {
    int provided = 0;
    MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &g_world.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_world.size);
    g_initialised = true;
  }
#else
  (void)argc;
  (void)argv;
  if (launched_by_mpi() && std::getenv("OMPI_COMM_WORLD_SIZE") && std::atoi(std::getenv("OMPI_COMM_WORLD_SIZE")) > 1)
    VED_FAIL("ved was started by an MPI launcher but built without MPI; rebuild with -DVED_WITH_MPI=ON");
#endif
  return g_world;
}

World world() { return g_world; }

void finalize() {
#ifdef VED_HAVE_MPI
  if (g_initialised) MPI_Finalize();
  g_initialised = false;
#endif
}

void abort(int code) {
#ifdef VED_HAVE_MPI
  if (g_initialised && g_world.size > 1) MPI_Abort(MPI_COMM_WORLD, code);
#endif
  std::exit(code);
}

void barrier() {
#ifdef VED_HAVE_MPI
  if (g_initialised) MPI_Barrier(MPI_COMM_WORLD);
#endif
}

void gather_rows(const double* local, long rows, long cols, std::vector<double>* out) {
#ifdef VED_HAVE_MPI
  if (g_initialised && g_world.size > 1) {
    long n = rows * cols;
    std::vector<long> counts(g_world.size);
    MPI_Gather(&n, 1, MPI_LONG, counts.data(), 1, MPI_LONG, 0, MPI_COMM_WORLD);
    std::vector<int> icounts(g_world.size), displs(g_world.size);
    long total = 0;
    if (g_world.rank == 0) {
      for (int r = 0; r < g_world.size; ++r) {
        VED_CHECK(total + counts[r] <= INT_MAX, "MPI gather of " << total + counts[r]
                                                                 << " values exceeds one message; use more ranks or fewer samples per run");
        icounts[r] = static_cast<int>(counts[r]);
        displs[r] = static_cast<int>(total);
        total += counts[r];
      }
      out->resize(total);
    }
    MPI_Gatherv(local, static_cast<int>(n), MPI_DOUBLE, g_world.rank == 0 ? out->data() : nullptr, icounts.data(),
                displs.data(), MPI_DOUBLE, 0, MPI_COMM_WORLD);
    return;
  }
#endif
  out->assign(local, local + rows * cols);
}

void broadcast(double* data, long n, int root) {
#ifdef VED_HAVE_MPI
  if (g_initialised && g_world.size > 1) {
    for (long off = 0; off < n; off += INT_MAX / 2) {
      int chunk = static_cast<int>(std::min<long>(INT_MAX / 2, n - off));
      MPI_Bcast(data + off, chunk, MPI_DOUBLE, root, MPI_COMM_WORLD);
    }
  }
#else
  (void)data;
  (void)n;
  (void)root;
#endif
}

void allreduce_sum(double* data, long n) {
#ifdef VED_HAVE_MPI
  if (g_initialised && g_world.size > 1) MPI_Allreduce(MPI_IN_PLACE, data, static_cast<int>(n), MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
#else
  (void)data;
  (void)n;
#endif
}

void allreduce_sum(float* data, long n) {
#ifdef VED_HAVE_MPI
  if (g_initialised && g_world.size > 1) MPI_Allreduce(MPI_IN_PLACE, data, static_cast<int>(n), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
#else
  (void)data;
  (void)n;
#endif
}

void broadcast(float* data, long n, int root) {
#ifdef VED_HAVE_MPI
  if (g_initialised && g_world.size > 1) MPI_Bcast(data, static_cast<int>(n), MPI_FLOAT, root, MPI_COMM_WORLD);
#else
  (void)data;
  (void)n;
  (void)root;
#endif
}

}  // namespace ved::mpi
