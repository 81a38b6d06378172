#pragma once
#include <string>

#include "model.h"

namespace gpu_agent {

// The readable form: one line per GPU, then what blocks it and how to fix it.
std::string inventory_to_table(const Inventory& inv);

}  // namespace gpu_agent
