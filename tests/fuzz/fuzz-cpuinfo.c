/* SPDX-License-Identifier: GPL-2.0-or-later */
/* /proc/cpuinfo's virtualisation flags: any bytes parse; a flag is found
 * only with a "flags" line, and only as a word the input holds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "host/parse.h"

#define FUZZ_MAX (1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > FUZZ_MAX)
		return 0;
	unsigned b = rs_cpuinfo_virt((const char *)data, size);
	if ((b & ~(RS_CPU_FLAGS | RS_CPU_VMX | RS_CPU_SVM | RS_CPU_HYPERVISOR)) ||
	    ((b & (RS_CPU_VMX | RS_CPU_SVM | RS_CPU_HYPERVISOR)) && !(b & RS_CPU_FLAGS)))
		abort();
	if ((b & RS_CPU_FLAGS) && !memmem(data, size, "flags", 5))
		abort();
	if ((b & RS_CPU_VMX) && !memmem(data, size, "vmx", 3))
		abort();
	if ((b & RS_CPU_SVM) && !memmem(data, size, "svm", 3))
		abort();
	return 0;
}
