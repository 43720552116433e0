# SPDX-License-Identifier: GPL-2.0
#
# make                 build physmap.ko against the running kernel (KDIR=...)
# make check           install what is missing, run every test, end with
#                      "N passed, N failed"
# make check-debug     the debug-kernel tier of "make check" alone (KASAN,
#                      lockdep, kmemleak, fault injection; the kernel is
#                      built once into ~/.cache/physmap)
# make run             boot Debian's cloud kernel in QEMU, load a real QEMU
#                      memory map and look addresses up
# make selftests       build the kselftests (standalone)
# make clean

KDIR ?= /lib/modules/$(shell uname -r)/build
PWD := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))

.PHONY: all modules clean check run selftests
.PHONY: check-debug

all: modules

modules:
	@if [ ! -d "$(KDIR)" ]; then \
		echo "physmap: no kernel build tree at $(KDIR)." >&2; \
		echo "  Install the headers of the running kernel (Debian:" >&2; \
		echo "  apt-get install linux-headers-\$$(uname -r)), or point" >&2; \
		echo "  KDIR at a built kernel tree: make KDIR=/path/to/tree" >&2; \
		exit 1; \
	fi
	$(MAKE) -C $(KDIR) M=$(PWD) modules

selftests:
	$(MAKE) -C selftests

check:
	scripts/check.sh

check-debug:
	scripts/check-debug.sh

run:
	scripts/run.sh

clean:
	@if [ -d "$(KDIR)" ]; then $(MAKE) -C $(KDIR) M=$(PWD) clean; fi
	rm -f *.o *.ko *.mod *.mod.c .*.cmd modules.order Module.symvers
	$(MAKE) -C selftests clean
	rm -rf build
