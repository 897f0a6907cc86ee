/* SPDX-License-Identifier: MIT */
/* libgpuvm: the umbrella header; includes every public header. */
#ifndef GPUVM_H
#define GPUVM_H

#include <gpuvm/common.h>
#include <gpuvm/signal.h>
#include <gpuvm/resv.h>
#include <gpuvm/vm.h>
#include <gpuvm/bo.h>
#include <gpuvm/va.h>
#include <gpuvm/ops.h>
#include <gpuvm/exec.h>
#include <gpuvm/bind.h>

#endif /* GPUVM_H */
