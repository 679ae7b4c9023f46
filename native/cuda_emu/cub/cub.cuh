// The CUDA emulator's stand-in for <cub/cub.cuh>: only what dendrite uses.
#pragma once
#include "device/device_radix_sort.cuh"
