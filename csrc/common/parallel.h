// Minimal parallel-for over independent tasks with std::thread (no pool: calls are coarse,
// a few thread spawns cost microseconds against milliseconds of work per call).
#pragma once
#include <cstddef>
#include <functional>

namespace jpegai {

// Number of hardware threads (>= 1).
int hardware_threads();

// Resolves a user thread request: <= 0 means "all hardware threads".
int resolve_threads(int requested);

// Runs fn(task) for task in [0, n_tasks) on up to `threads` threads (the caller included),
// handing tasks out dynamically. The first exception thrown by any task is rethrown here
// after all threads have joined; remaining tasks are skipped once one has failed.
void parallel_for(size_t n_tasks, int threads, const std::function<void(size_t)>& fn);

}  // namespace jpegai
