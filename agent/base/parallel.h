#pragma once
// Independent reads spread over a few threads: sysfs answers each file on the
// CPU that asks, so an inventory of thousands of small files (the 5,632
// available_instances of an 8x A40 SR-IOV host) finishes sooner on several.
#include <cstddef>
#include <functional>

namespace gpu_agent {

// Runs work(i) once for every i in [0, n), on the calling thread and up to
// threads - 1 others, each taking the next index; returns when all are done.
// An exception from work is rethrown here (the first one) after every thread
// has stopped. work must only touch what index i owns.
void for_each_index(size_t n, unsigned threads, const std::function<void(size_t)>& work);

// How many threads such reads may use: the CPUs this process may run on
// (its affinity mask, so a cgroup-pinned agent does not oversubscribe), at most 4.
unsigned read_threads();

}  // namespace gpu_agent
